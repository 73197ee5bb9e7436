// Corpus replay driver for a libFuzzer target, for compilers without libFuzzer (g++).
//
// Linked with exactly one tests/fuzz/<name>.cpp that defines LLVMFuzzerTestOneInput.
//   fuzz_<target>_replay [file-or-dir ...]
// Each file is fed once; each directory is walked recursively (sorted, so runs are
// reproducible). With no arguments a built-in set of seeds is fed instead.
// Exit status: 0 when every input returned (a crash or abort fails the process), 1 on an
// unreadable path. A non-zero return from the target (-1 = "reject this input" in
// libFuzzer) is counted and reported, not treated as a failure.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

int g_nonzero = 0;

void feed(const std::string& bytes) {
  // Copy into an exactly-sized heap buffer, as libFuzzer does, so overreads are caught by
  // sanitizers when they are enabled.
  std::vector<uint8_t> buf(bytes.begin(), bytes.end());
  const uint8_t* data = buf.empty() ? nullptr : buf.data();
  if (LLVMFuzzerTestOneInput(data, buf.size()) != 0) ++g_nonzero;
}

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

const std::vector<std::string>& builtin_seeds() {
  static const std::vector<std::string> seeds = {
      "",
      std::string("\0", 1),
      "\xff\xfe\xfd",
      "{",
      "}",
      "[]",
      "{}",
      "null",
      "0",
      "-1e400",
      "\"\\ud800\"",
      "{\"type\":\"hello\"}",
      "{\"type\":\"welcome\",\"v\":1}",
      "{\"type\":\"ack\",\"client_id\":\"c1\",\"server_id\":\"s1\",\"seq\":1}",
      "{\"type\":\"event\",\"seq\":-1,\"cursor\":null}",
      "{\"type\":\"error\",\"recoverable\":\"maybe\"}",
      "{\"type\":\"send\",\"body\":" + std::string(4096, '[') + "}",
      std::string(64 * 1024, 'a'),
  };
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  std::size_t fed = 0;
  int unreadable = 0;
  if (argc <= 1) {
    for (const auto& s : builtin_seeds()) {
      feed(s);
      ++fed;
    }
    std::printf("replay %s: %zu built-in seeds ok (%d rejected)\n", argv[0], fed, g_nonzero);
    return 0;
  }

  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(arg, ec)) {
      for (auto it = fs::recursive_directory_iterator(arg, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(arg);
    }
    if (ec) {
      std::fprintf(stderr, "replay: cannot walk %s: %s\n", argv[i], ec.message().c_str());
      ++unreadable;
    }
    for (const auto& f : files) {
      std::string bytes;
      if (!read_file(f, bytes)) {
        std::fprintf(stderr, "replay: cannot read %s\n", f.string().c_str());
        ++unreadable;
        continue;
      }
      feed(bytes);
      ++fed;
    }
  }
  std::printf("replay %s: %zu inputs ok (%d rejected)%s\n", argv[0], fed, g_nonzero,
              unreadable ? "; some paths unreadable" : "");
  return unreadable ? 1 : 0;
}
