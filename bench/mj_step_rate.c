/* mj_step_rate.c: one core's raw physics rate of a model file, for comparing MuJoCo versions
 * (bench/mujoco_versions.sh builds it against each and alternates them). Steps the model with
 * uniform random controls in ctrlrange, FRAME_SKIP mj_step calls per env step (plus
 * mj_rnePostConstraint when CONTACT_FORCES is 1, as the tasks that observe cfrc_ext do), resetting
 * to qpos0 every 1000 env steps (the reset is not timed), and prints one JSON line:
 *   {"mujoco": "4.0.1", "model": "hopper.xml", "env_steps": N, "us_per_env_step": t}
 * Usage: mj_step_rate MODEL.xml FRAME_SKIP CONTACT_FORCES ENV_STEPS SEED */
#include <mujoco/mujoco.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* xorshift64*: the same controls for every version */
static double uniform(uint64_t* s, double lo, double hi) {
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return lo + (hi - lo) * (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: mj_step_rate MODEL.xml FRAME_SKIP CONTACT_FORCES ENV_STEPS SEED\n");
    return 2;
  }
  const int frame_skip = atoi(argv[2]), contact_forces = atoi(argv[3]);
  const long env_steps = atol(argv[4]);
  uint64_t seed = strtoull(argv[5], NULL, 10) * 2 + 1;
  char error[1000] = "";
  mjModel* m = mj_loadXML(argv[1], NULL, error, sizeof error);
  if (!m) {
    fprintf(stderr, "mj_step_rate: cannot load %s: %s\n", argv[1], error);
    return 2;
  }
  mjData* d = mj_makeData(m);
  double timed = 0;
  for (long k = 0; k < env_steps; ++k) {
    if (k % 1000 == 0) {
      mj_resetData(m, d);
      mj_forward(m, d);
    }
    for (int i = 0; i < m->nu; ++i)
      d->ctrl[i] = uniform(&seed, m->actuator_ctrlrange[2 * i], m->actuator_ctrlrange[2 * i + 1]);
    double t0 = now_seconds();
    for (int f = 0; f < frame_skip; ++f) mj_step(m, d);
    if (contact_forces) mj_rnePostConstraint(m, d);
    timed += now_seconds() - t0;
  }
  const char* name = strrchr(argv[1], '/');
  printf("{\"mujoco\": \"%s\", \"model\": \"%s\", \"env_steps\": %ld, \"us_per_env_step\": %.3f}\n",
         mj_versionString(), name ? name + 1 : argv[1], env_steps, 1e6 * timed / (double)env_steps);
  mj_deleteData(d);
  mj_deleteModel(m);
  return 0;
}
