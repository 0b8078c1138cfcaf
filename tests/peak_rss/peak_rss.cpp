// tinylm_peak_rss REPORT COMMAND [ARGUMENTS...]: runs COMMAND as its own child, waits for it, writes the child's peak
// resident set in KiB (wait4's ru_maxrss) to the file REPORT and exits with the child's status (128 + the signal
// if it was killed), its output passed through untouched.
//
// Why a process in between: on Linux a process's ru_maxrss also counts the memory map it replaced at exec, so a
// command started directly by a large process (popen from the test binary, hundreds of MB under the sanitizers)
// reports at least that process's peak. Started from this small program by fork and exec, the command's figure is
// its own peak, or this program's few MB if that is larger. tests/native/test_cli.cpp uses it to check that the
// CLI refuses a bad model file without reading the file's data.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s REPORT COMMAND [ARGUMENTS...]\n", argv[0]);
    return 2;
  }
  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "tinylm_peak_rss: fork failed: %s\n", std::strerror(errno));
    return 2;
  }
  if (child == 0) {
    execv(argv[2], argv + 2);
    std::fprintf(stderr, "tinylm_peak_rss: cannot run '%s': %s\n", argv[2], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "tinylm_peak_rss: wait4 failed: %s\n", std::strerror(errno));
      return 2;
    }
  }
  std::FILE* report = std::fopen(argv[1], "w");
  if (report == nullptr || std::fprintf(report, "%ld\n", usage.ru_maxrss) < 0 || std::fclose(report) != 0) {
    std::fprintf(stderr, "tinylm_peak_rss: cannot write '%s'\n", argv[1]);
    return 2;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
