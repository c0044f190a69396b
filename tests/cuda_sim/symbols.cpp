// symbols.cpp (CUDA simulator): kernel names and each kernel's static shared memory, from the
// running executable's ELF symbol table (/proc/self/exe, read once). A kernel is named by the
// demangled name of the function at its address; a __shared__ variable is a static local of the
// kernel (the stand-in cuda_runtime.h makes __shared__ `static`), whose demangled name is
// "<the kernel's demangled name>::<variable>", so a kernel's static shared memory is the list of
// the writable variables named under it (by address and size; templates included, whose
// statics the compiler keeps out of the section cudasim_shared).
#include <cxxabi.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "sim.h"

namespace cudasim {
namespace {

struct SymbolTable {
  std::map<uintptr_t, std::string> functions;      // run-time address -> demangled name
  // function's demangled name -> its writable static locals (its __shared__ variables)
  std::map<std::string, std::vector<SharedVariable>> shared;
  std::map<uintptr_t, std::string> unknown;        // names made up for addresses not found
};

std::string demangle(const char* name) {
  int status = 0;
  char* text = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || !text) return name;
  std::string out(text);
  std::free(text);
  return out;
}

int main_program_bias(dl_phdr_info* info, size_t, void* out) {
  *static_cast<uintptr_t*>(out) = info->dlpi_addr;
  return 1;  // the first object is the main program
}

SymbolTable load() {
  SymbolTable table;
  std::ifstream file("/proc/self/exe", std::ios::binary);
  std::vector<char> data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (data.size() < sizeof(Elf64_Ehdr)) return table;
  const auto* header = reinterpret_cast<const Elf64_Ehdr*>(data.data());
  if (std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_ident[EI_CLASS] != ELFCLASS64)
    return table;
  uintptr_t bias = 0;
  dl_iterate_phdr(main_program_bias, &bias);
  const auto* sections = reinterpret_cast<const Elf64_Shdr*>(data.data() + header->e_shoff);
  const char* section_names = data.data() + sections[header->e_shstrndx].sh_offset;
  (void)section_names;
  for (size_t i = 0; i < header->e_shnum; ++i) {
    if (sections[i].sh_type != SHT_SYMTAB) continue;
    const char* names = data.data() + sections[sections[i].sh_link].sh_offset;
    const auto* symbols = reinterpret_cast<const Elf64_Sym*>(data.data() + sections[i].sh_offset);
    size_t count = sections[i].sh_size / sizeof(Elf64_Sym);
    for (size_t k = 0; k < count; ++k) {
      const Elf64_Sym& s = symbols[k];
      int type = ELF64_ST_TYPE(s.st_info);
      if (type == STT_FUNC && s.st_value) {
        table.functions.emplace(bias + s.st_value, demangle(names + s.st_name));
      } else if (type == STT_OBJECT && std::strncmp(names + s.st_name, "_ZZ", 3) == 0 &&
                 s.st_shndx < header->e_shnum && (sections[s.st_shndx].sh_flags & SHF_WRITE)) {
        // a writable static local ("_ZZ<function>E<name>"): one of its function's __shared__
        std::string name = demangle(names + s.st_name);
        size_t owner_end = name.rfind("::");
        if (owner_end != std::string::npos)
          table.shared[name.substr(0, owner_end)].push_back(
              SharedVariable{reinterpret_cast<void*>(bias + s.st_value), (size_t)s.st_size});
      }
    }
  }
  return table;
}

SymbolTable& symbols() {
  static SymbolTable table = load();
  return table;
}

}  // namespace

const std::string& function_name(const void* address) {
  DeviceLock lock(device_mutex());
  SymbolTable& table = symbols();
  auto key = reinterpret_cast<uintptr_t>(address);
  auto it = table.functions.find(key);
  if (it != table.functions.end()) return it->second;
  auto& made_up = table.unknown[key];
  if (made_up.empty()) {
    char text[64];
    std::snprintf(text, sizeof text, "kernel@%p", address);
    made_up = text;
  }
  return made_up;
}

const std::vector<SharedVariable>& shared_variables(const void* address) {
  DeviceLock lock(device_mutex());
  static const std::vector<SharedVariable> none;
  const std::string& name = function_name(address);
  for (const auto& [owner, variables] : symbols().shared) {
    // a template's name carries its return type ("void f<true>(int)"), its statics' owner not
    size_t at = name.size() - std::min(name.size(), owner.size());
    if (name.compare(at, std::string::npos, owner) == 0 && (at == 0 || name[at - 1] == ' '))
      return variables;
  }
  return none;
}

size_t static_shared_bytes(const void* address) {
  size_t bytes = 0;
  for (const SharedVariable& v : shared_variables(address)) bytes += v.bytes;
  return bytes;
}

}  // namespace cudasim
