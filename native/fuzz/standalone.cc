// standalone.cc: runs a fuzz target's entry point over files and directories
// without libFuzzer, so any compiler with AddressSanitizer (gcc too) can
// replay regression inputs and run the leak check (run.sh --leak).
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

size_t ran = 0;

bool run_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> buf;
  uint8_t chunk[65536];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + got);
  std::fclose(f);
  // A copy of exactly the input's size, as libFuzzer passes it.
  std::vector<uint8_t> exact(buf);
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  ran++;
  return true;
}

bool run_path(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "cannot stat %s\n", path.c_str());
    return false;
  }
  if (!S_ISDIR(st.st_mode)) return run_file(path);
  DIR* d = opendir(path.c_str());
  if (!d) return false;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(path + "/" + n);
  }
  closedir(d);
  bool ok = true;
  for (const std::string& n : names) ok = run_path(n) && ok;
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  bool ok = true;
  for (int i = 1; i < argc; i++) ok = run_path(argv[i]) && ok;
  std::printf("standalone: ran %zu inputs\n", ran);
  return ok ? 0 : 2;
}
