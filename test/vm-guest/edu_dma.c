// Drives the QEMU edu device's DMA engine (docs/specs/edu.rst) from user
// space through sysfs, so the emulated VT-d sees a real DMA:
//   edu_dma BDF IOVA COUNT read|write [REPEAT]
// "read" copies RAM(IOVA) -> edu buffer (the IOMMU sees a DMA read),
// "write" copies the edu buffer -> RAM(IOVA) (a DMA write). Needs root
// (config space write, BAR mmap). Waits for each transfer to finish.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define EDU_BAR_SIZE 0x100000
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_BUFFER 0x40000
#define CMD_START 1u
#define CMD_TO_RAM 2u

static int fail(const char *what) {
  perror(what);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: edu_dma BDF IOVA COUNT read|write [REPEAT]\n");
    return 2;
  }
  const char *bdf = argv[1];
  uint64_t iova = strtoull(argv[2], NULL, 0);
  uint64_t count = strtoull(argv[3], NULL, 0);
  int to_ram = strcmp(argv[4], "write") == 0;
  int repeat = argc > 5 ? atoi(argv[5]) : 1;
  char path[256];

  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", bdf);
  int cfg = open(path, O_RDWR);
  if (cfg < 0) return fail(path);
  uint16_t command = 0;
  if (pread(cfg, &command, 2, 4) != 2) return fail("read command register");
  command |= 0x6; // memory space + bus master
  if (pwrite(cfg, &command, 2, 4) != 2) return fail("write command register");
  close(cfg);

  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/resource0", bdf);
  int bar = open(path, O_RDWR | O_SYNC);
  if (bar < 0) return fail(path);
  volatile uint8_t *regs = mmap(NULL, EDU_BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, bar, 0);
  if (regs == MAP_FAILED) return fail("mmap resource0");

  for (int i = 0; i < repeat; i++) {
    uint64_t ram = iova + (uint64_t)i * 0x1000;
    *(volatile uint64_t *)(regs + EDU_DMA_SRC) = to_ram ? EDU_BUFFER : ram;
    *(volatile uint64_t *)(regs + EDU_DMA_DST) = to_ram ? ram : EDU_BUFFER;
    *(volatile uint64_t *)(regs + EDU_DMA_COUNT) = count;
    *(volatile uint64_t *)(regs + EDU_DMA_CMD) = CMD_START | (to_ram ? CMD_TO_RAM : 0);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (*(volatile uint64_t *)(regs + EDU_DMA_CMD) & CMD_START) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec > 5) {
        fprintf(stderr, "edu_dma: transfer %d did not finish in 5 s\n", i);
        return 1;
      }
      usleep(100);
    }
  }
  printf("edu_dma: %d %s DMA(s) at 0x%llx done\n", repeat, to_ram ? "write" : "read",
         (unsigned long long)iova);
  return 0;
}
