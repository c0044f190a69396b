# cluster.sh: a one-node Slurm cluster on localhost, sourced by the Slurm tests. Everything lives
# in one folder ($SLURM_TEST_DIR): slurm.conf, the munge key and socket, the daemons' state,
# spool and logs. The daemons run as root with proctrack/linuxproc and task/none (no cgroups).
#   cluster_start DIR   writes the files, starts munged, slurmctld and slurmd, waits until the
#                       node is idle; exports SLURM_CONF so sbatch, squeue, ... talk to it
#   cluster_stop        stops the three daemons (by the pids they wrote) and waits until they
#                       are gone; safe to call twice and from a trap

# a TCP port nothing listens on
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cluster_start() {
  SLURM_TEST_DIR=$1
  local d=$SLURM_TEST_DIR host cpus mem_mb
  mkdir -p "$d/state" "$d/spool" "$d/log" "$d/munge"
  chmod 700 "$d/munge"
  host=$(hostname -s)
  cpus=$(nproc)
  # leave the machine some memory; Slurm's figure is in MiB
  mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))

  # munge: a fresh key made here, its own socket, pid and log files
  dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$d/munge/munge.key"
  munged --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" \
    --seed-file="$d/munge/munged.seed" --force || return 1

  cat > "$d/slurm.conf" <<CONF
ClusterName=sactest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
KillWait=10
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$d/slurm.conf
  slurmctld -f "$SLURM_CONF" -i || return 1
  slurmd -f "$SLURM_CONF" || return 1
  # the node answers within seconds
  local i state
  for i in $(seq 1 60); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
    [ "$state" = idle ] && return 0
    sleep 0.5
  done
  echo "cluster.sh: the node did not become idle (state '$state'); logs in $d/log" >&2
  return 1
}

# stops the daemon whose pid file is $1, waiting up to 15 s before SIGKILL
stop_daemon() {
  local pid_file=$1 pid i
  [ -s "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$pid_file"; return 0; }
  for i in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; return 0; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$pid_file"
}

cluster_stop() {
  local d=${SLURM_TEST_DIR:-}
  [ -n "$d" ] || return 0
  # the jobs first, so slurmd ends their processes
  [ -s "$d/slurmctld.pid" ] && scancel --quiet --user=root 2>/dev/null
  sleep 1
  stop_daemon "$d/slurmd.pid"
  stop_daemon "$d/slurmctld.pid"
  stop_daemon "$d/munge/munged.pid"
}
