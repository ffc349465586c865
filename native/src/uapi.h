/*
 * Our own definitions of the iommufd, VFIO cdev and iommufd selftest uAPI we
 * use. Debian 12's linux-libc-dev has no <linux/iommufd.h>, so the addon (and
 * native/bench/c_fault_loop.c) carry these. Names match the kernel's so that
 * test/native/uapi-layout.test.ts can compile one printer program against
 * this file and against the kernel's own headers and compare every
 * sizeof/offsetof. Plain C so the C bench can include it too.
 */
#ifndef IOMMUSCOPE_UAPI_H
#define IOMMUSCOPE_UAPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#ifdef __cplusplus
#define UAPI_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define UAPI_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define UAPI_U64 uint64_t __attribute__((aligned(8)))

/* ---------------- iommufd ---------------- */
#define IOMMUFD_TYPE (';')
#define IOMMUFD_CMD_BASE 0x80

struct iommu_destroy {
  uint32_t size;
  uint32_t id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, 0x80)

struct iommu_ioas_alloc {
  uint32_t size;
  uint32_t flags;
  uint32_t out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)

struct iommu_iova_range {
  UAPI_U64 start;
  UAPI_U64 last;
};

struct iommu_ioas_iova_ranges {
  uint32_t size;
  uint32_t ioas_id;
  uint32_t num_iovas;
  uint32_t __reserved;
  UAPI_U64 allowed_iovas;
  UAPI_U64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, 0x84)

#define IOMMU_IOAS_MAP_FIXED_IOVA (1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE (1 << 1)
#define IOMMU_IOAS_MAP_READABLE (1 << 2)

struct iommu_ioas_map {
  uint32_t size;
  uint32_t flags;
  uint32_t ioas_id;
  uint32_t __reserved;
  UAPI_U64 user_va;
  UAPI_U64 length;
  UAPI_U64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)

struct iommu_ioas_unmap {
  uint32_t size;
  uint32_t ioas_id;
  UAPI_U64 iova;
  UAPI_U64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)

#define IOMMU_HWPT_ALLOC_NEST_PARENT (1 << 0)
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1 << 1)
#define IOMMU_HWPT_FAULT_ID_VALID (1 << 2)
/* 7.3 (not in 6.12, which refuses unknown flags with EOPNOTSUPP). */
#define IOMMU_HWPT_ALLOC_PASID (1 << 3)

struct iommu_hwpt_alloc {
  uint32_t size;
  uint32_t flags;
  uint32_t dev_id;
  uint32_t pt_id;
  uint32_t out_hwpt_id;
  uint32_t __reserved;
  uint32_t data_type;
  uint32_t data_len;
  UAPI_U64 data_uptr;
  uint32_t fault_id;
  uint32_t __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, 0x89)

/*
 * 7.3 makes out_data_type an in/out union (in_data_type, read only with
 * IOMMU_HW_INFO_FLAG_INPUT_TYPE); the size (40) and offsets are unchanged, so
 * one struct serves both kernels. 6.12 refuses any flag with EOPNOTSUPP.
 */
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE (1 << 0)
struct iommu_hw_info {
  uint32_t size;
  uint32_t flags;
  uint32_t dev_id;
  uint32_t data_len;
  UAPI_U64 data_uptr;
  union {
    uint32_t in_data_type;
    uint32_t out_data_type;
  };
  uint8_t out_max_pasid_log2;
  uint8_t __reserved[3];
  UAPI_U64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, 0x8a)

#define IOMMU_HW_INFO_TYPE_NONE 0
#define IOMMU_HW_INFO_TYPE_DEFAULT 0
#define IOMMU_HW_INFO_TYPE_INTEL_VTD 1
#define IOMMU_HW_INFO_TYPE_ARM_SMMUV3 2
#define IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV 3
#define IOMMU_HW_INFO_TYPE_AMD 4
#define IOMMU_HW_CAP_DIRTY_TRACKING (1 << 0)
#define IOMMU_HW_CAP_PCI_PASID_EXEC (1 << 1)
#define IOMMU_HW_CAP_PCI_PASID_PRIV (1 << 2)
#define IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (1 << 3)

struct iommu_hw_info_vtd {
  uint32_t flags;
  uint32_t __reserved;
  UAPI_U64 cap_reg;
  UAPI_U64 ecap_reg;
};

struct iommu_hw_info_arm_smmuv3 {
  uint32_t flags;
  uint32_t __reserved;
  uint32_t idr[6];
  uint32_t iidr;
  uint32_t aidr;
};

struct iommu_hw_info_tegra241_cmdqv {
  uint32_t flags;
  uint8_t version;
  uint8_t log2vcmdqs;
  uint8_t log2vsids;
  uint8_t __reserved;
};

struct iommu_hw_info_amd {
  UAPI_U64 efr;
  UAPI_U64 efr2;
};

#define IOMMU_PGFAULT_FLAGS_PASID_VALID (1 << 0)
#define IOMMU_PGFAULT_FLAGS_LAST_PAGE (1 << 1)
#define IOMMU_PGFAULT_PERM_READ (1 << 0)
#define IOMMU_PGFAULT_PERM_WRITE (1 << 1)
#define IOMMU_PGFAULT_PERM_EXEC (1 << 2)
#define IOMMU_PGFAULT_PERM_PRIV (1 << 3)

struct iommu_hwpt_pgfault {
  uint32_t flags;
  uint32_t dev_id;
  uint32_t pasid;
  uint32_t grpid;
  uint32_t perm;
  uint32_t __reserved;
  UAPI_U64 addr;
  uint32_t length;
  uint32_t cookie;
};

#define IOMMUFD_PAGE_RESP_SUCCESS 0
#define IOMMUFD_PAGE_RESP_INVALID 1

struct iommu_hwpt_page_response {
  uint32_t cookie;
  uint32_t code;
};

/* vEVENTQ (kernels 6.15+): each vEVENT is this header, then type-specific
 * data of a fixed size per queue type; a LOST_EVENTS header has no data. */
#define IOMMU_VEVENTQ_FLAG_LOST_EVENTS (1U << 0)

struct iommufd_vevent_header {
  uint32_t flags;
  uint32_t sequence; /* [0, INT_MAX]; after INT_MAX comes 0 */
};

struct iommu_fault_alloc {
  uint32_t size;
  uint32_t flags;
  uint32_t out_fault_id;
  uint32_t out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, 0x8e)

/* ---------------- vIOMMU, vDEVICE, vEVENTQ, HW queue (7.3, not in 6.12) ---------------- */
#define IOMMUFD_CMD_VIOMMU_ALLOC 0x90
#define IOMMUFD_CMD_VDEVICE_ALLOC 0x91
#define IOMMUFD_CMD_VEVENTQ_ALLOC 0x93
#define IOMMUFD_CMD_HW_QUEUE_ALLOC 0x94

struct iommu_viommu_alloc {
  uint32_t size;
  uint32_t flags;
  uint32_t type;
  uint32_t dev_id;
  uint32_t hwpt_id;
  uint32_t out_viommu_id;
  uint32_t data_len;
  uint32_t __reserved;
  UAPI_U64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

struct iommu_vdevice_alloc {
  uint32_t size;
  uint32_t viommu_id;
  uint32_t dev_id;
  uint32_t out_vdevice_id;
  UAPI_U64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)


#define IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 1
#define IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV 2
struct iommu_veventq_alloc {
  uint32_t size;
  uint32_t flags;
  uint32_t viommu_id;
  uint32_t type;
  uint32_t veventq_depth;
  uint32_t out_veventq_id;
  uint32_t out_veventq_fd;
  uint32_t __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

struct iommu_hw_queue_alloc {
  uint32_t size;
  uint32_t flags;
  uint32_t viommu_id;
  uint32_t type;
  uint32_t index;
  uint32_t out_hw_queue_id;
  UAPI_U64 nesting_parent_iova;
  UAPI_U64 length;
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

/* ---------------- VFIO device cdev ---------------- */
#define VFIO_TYPE (';')
#define VFIO_BASE 100

struct vfio_device_bind_iommufd {
  uint32_t argsz;
  uint32_t flags;
  int32_t iommufd;
  uint32_t out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

/* 6.12 layout; 7.3 appends pasid (our _pasid variant below). */
struct vfio_device_attach_iommufd_pt {
  uint32_t argsz;
  uint32_t flags;
  uint32_t pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
  uint32_t argsz;
  uint32_t flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

/*
 * Later kernels append `pasid` and accept flag VFIO_DEVICE_ATTACH_PASID
 * (argsz covers the new field). Kernels without it (6.12) reject the flag
 * with EINVAL. Not in the 6.12 headers, so these are ours only.
 */
#define VFIO_DEVICE_ATTACH_PASID (1 << 0)
#define VFIO_DEVICE_DETACH_PASID (1 << 0)
struct vfio_device_attach_iommufd_pt_pasid {
  uint32_t argsz;
  uint32_t flags;
  uint32_t pt_id;
  uint32_t pasid;
};
struct vfio_device_detach_iommufd_pt_pasid {
  uint32_t argsz;
  uint32_t flags;
  uint32_t pasid;
};

/* ---------------- iommufd selftest (CONFIG_IOMMUFD_TEST) ---------------- */
#define IOMMU_TEST_OP_ADD_RESERVED 1
#define IOMMU_TEST_OP_MOCK_DOMAIN 2
#define IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE 10
#define IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS 12
#define IOMMU_TEST_OP_TRIGGER_IOPF 15
/* 7.3 only: 6.12's selftest answers these op numbers with EOPNOTSUPP. */
#define IOMMU_TEST_OP_TRIGGER_VEVENT 17
#define IOMMU_TEST_OP_PASID_ATTACH 18
#define IOMMU_TEST_OP_PASID_REPLACE 19
#define IOMMU_TEST_OP_PASID_DETACH 20
#define IOMMU_TEST_OP_PASID_CHECK_HWPT 21

#define MOCK_FLAGS_DEVICE_NO_DIRTY (1 << 0)
#define MOCK_FLAGS_DEVICE_PASID (1 << 2) /* 7.3: the mock device gets 20 PASID bits */
#define MOCK_PASID_WIDTH 20
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef
#define IOMMU_TEST_HW_QUEUE_MAX 2

#define IOMMU_HWPT_DATA_SELFTEST 0xdead
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef

struct iommu_test_cmd {
  uint32_t size;
  uint32_t op;
  uint32_t id;
  uint32_t __reserved;
  union {
    struct {
      UAPI_U64 start;
      UAPI_U64 length;
    } add_reserved;
    struct {
      uint32_t out_stdev_id;
      uint32_t out_hwpt_id;
      uint32_t out_idev_id;
    } mock_domain;
    struct {
      uint32_t out_stdev_id;
      uint32_t out_hwpt_id;
      uint32_t out_idev_id;
      uint32_t dev_flags;
    } mock_domain_flags;
    struct {
      uint32_t pt_id;
    } mock_domain_replace;
    struct {
      uint32_t dev_id;
      uint32_t pasid;
      uint32_t grpid;
      uint32_t perm;
      uint64_t addr;
    } trigger_iopf;
    struct {
      uint32_t dev_id;
    } trigger_vevent;
    struct {
      uint32_t pasid;
      uint32_t pt_id;
    } pasid_attach; /* also PASID_REPLACE; @id is the stdev id */
    struct {
      uint32_t pasid;
    } pasid_detach;
    struct {
      uint32_t pasid;
      uint32_t hwpt_id;
    } pasid_check;
    /* The kernel's union has larger members (dirty: 48 bytes); keep its size. */
    uint8_t __union_size[48];
  };
  uint32_t last;
};
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* 6.12: { iotlb }; 7.3 appends pagetable_type and still accepts the 4-byte form. */
struct iommu_hwpt_selftest {
  uint32_t iotlb;
};

struct iommu_test_hw_info {
  uint32_t flags;
  uint32_t test_reg;
};

struct iommu_viommu_event_selftest {
  uint32_t virt_id;
};

/* Sizes as in the 6.12 kernel headers (also checked field by field by the layout test). */
UAPI_STATIC_ASSERT(sizeof(struct iommu_destroy) == 8, "iommu_destroy");
UAPI_STATIC_ASSERT(sizeof(struct iommu_ioas_alloc) == 12, "iommu_ioas_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommu_iova_range) == 16, "iommu_iova_range");
UAPI_STATIC_ASSERT(sizeof(struct iommu_ioas_iova_ranges) == 32, "iommu_ioas_iova_ranges");
UAPI_STATIC_ASSERT(sizeof(struct iommu_ioas_map) == 40, "iommu_ioas_map");
UAPI_STATIC_ASSERT(sizeof(struct iommu_ioas_unmap) == 24, "iommu_ioas_unmap");
UAPI_STATIC_ASSERT(sizeof(struct iommu_hwpt_alloc) == 48, "iommu_hwpt_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommu_hw_info) == 40, "iommu_hw_info");
UAPI_STATIC_ASSERT(sizeof(struct iommu_hwpt_pgfault) == 40, "iommu_hwpt_pgfault");
UAPI_STATIC_ASSERT(sizeof(struct iommu_hwpt_page_response) == 8, "iommu_hwpt_page_response");
UAPI_STATIC_ASSERT(sizeof(struct iommu_fault_alloc) == 16, "iommu_fault_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommufd_vevent_header) == 8, "iommufd_vevent_header");
UAPI_STATIC_ASSERT(sizeof(struct vfio_device_bind_iommufd) == 16, "vfio_device_bind_iommufd");
UAPI_STATIC_ASSERT(sizeof(struct vfio_device_attach_iommufd_pt) == 12, "attach_iommufd_pt");
UAPI_STATIC_ASSERT(sizeof(struct vfio_device_detach_iommufd_pt) == 8, "detach_iommufd_pt");
UAPI_STATIC_ASSERT(sizeof(struct vfio_device_attach_iommufd_pt_pasid) == 16, "attach pasid");
UAPI_STATIC_ASSERT(sizeof(struct vfio_device_detach_iommufd_pt_pasid) == 12, "detach pasid");
UAPI_STATIC_ASSERT(sizeof(struct iommu_test_cmd) == 72, "iommu_test_cmd");
UAPI_STATIC_ASSERT(offsetof(struct iommu_test_cmd, trigger_iopf.addr) == 32, "trigger_iopf");
UAPI_STATIC_ASSERT(offsetof(struct iommu_test_cmd, last) == 64, "iommu_test_cmd.last");
UAPI_STATIC_ASSERT(offsetof(struct iommu_hwpt_pgfault, addr) == 24, "pgfault.addr");
UAPI_STATIC_ASSERT(offsetof(struct iommu_hwpt_pgfault, cookie) == 36, "pgfault.cookie");
UAPI_STATIC_ASSERT(sizeof(struct iommu_viommu_alloc) == 40, "iommu_viommu_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommu_vdevice_alloc) == 24, "iommu_vdevice_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommu_veventq_alloc) == 32, "iommu_veventq_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommu_hw_queue_alloc) == 40, "iommu_hw_queue_alloc");
UAPI_STATIC_ASSERT(sizeof(struct iommufd_vevent_header) == 8, "iommufd_vevent_header");

#endif
