#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen_corpus.py - writes the hand-made seeds of tests/fuzz/corpus/<target>/.

Each seed is a small, valid input that reaches deep into its target (a
config line that parses, a ring with a chain on it, a hello that passes,
a GSO frame that segments); the fuzzer mutates from there.  Seeds named
crash-* or regress-* are regression inputs from findings and are kept
as they are (this script never deletes anything).

    python3 tests/fuzz/gen_corpus.py      # from the repository's root
"""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- opts_config, opts_cmdline (host/opts.c) -----------------------------
CONFIG = {
    "peer": b"vdev virtio-net name a mac 52:54:00:12:34:56 peer /run/vnet/vm2/b peerfeats 0x3\n",
    "mmio": b"# mmio device\nvdev virtio-net legacy loc 0x10000000 intr gic:40 name m0\n\n",
    "vhost": b"vdev virtio-net vhost-user /tmp/vu.sock peerfeats auto peer ../b  # vhost\n",
    "tap": (b"vdev tap ifname vp0 name side mac 02:00:00:00:00:05 peer /run/vnet/vm1/a "
            b"peerfeats auto mtu 9000 addr 198.18.0.1/24 addr fd00::1/64 netns ns-1\n"),
    "vxlan": b"vdev tap ifname vp0 bridge br0 vxlan 42@192.0.2.7\nvdev virtio-net name x\n",
}
for k, v in CONFIG.items():
    put("opts_config", k, v)

CMDLINE = {
    "globals": "vnet-host --system vm1 --run-dir /tmp/r -v vdev virtio-net intr gic:40 name a peer /tmp/r/vm2/b",
    "config": "vnet-host --config /tmp/vnet-fuzz-opts/vnet.conf vdev virtio-net name c mac 02-AB-cd-EF-00-01",
    "inline": "vnet-host --system=vm2 --run-dir=rel/dir -vv vdev virtio-net peerfeats 0X7FC3 loc 0XFFFFFFFFF000 intr 5",
    "tap": "vnet-host vdev virtio-net name a peer /r/s/b vdev tap ifname t0 name b peer /r/s/a mtu 1500",
    "help": "vnet-host -v --help",
}
for k, v in CMDLINE.items():
    put("opts_cmdline", k, v.replace(" ", "\0").encode())

# ---- vq (common/ring/): see fuzz_vq.c for the input layout ---------------
RAM_OFF = 0x100       # pick_addr(v) = RAM_GPA - 0x100 + v
RAM_GPA = 0x10000
BUF_OUT, BUF_IN, TABLE = 0x1000, 0x2000, 0x800
OPS = bytes([0, 63, 1, 255, 3, 0, 4, 1, 5, 0, 0, 63, 2, 0, 0, 63, 1, 10, 3, 0])


def vq_seed(mode, size_log2, desc, drv, dev, ram):
    hdr = struct.pack("<BBHHH", mode, size_log2, desc + RAM_OFF, drv + RAM_OFF, dev + RAM_OFF)
    return hdr + bytes([len(OPS) // 2]) + OPS + bytes(ram)


def split_desc(addr, ln, flags, nxt):
    return struct.pack("<QIHH", addr, ln, flags, nxt)


def ram_with(parts, size=0x900):
    ram = bytearray(size)
    for off, b in parts:
        ram[off:off + len(b)] = b
    return ram


# split, 8 entries: desc at 0, avail at 0x80, used at 0x100
chain = split_desc(RAM_GPA + BUF_OUT, 64, 1, 1) + split_desc(RAM_GPA + BUF_IN, 128, 2, 0)
avail = struct.pack("<HH", 0, 1) + struct.pack("<8H", 0, 0, 0, 0, 0, 0, 0, 0) + struct.pack("<H", 0)
for mode, name in ((0, "split"), (2, "split-event-idx")):
    put("vq", name, vq_seed(mode, 3, 0, 0x80, 0x100, ram_with([(0, chain), (0x80, avail)])))
ind = split_desc(RAM_GPA + TABLE, 32, 4, 0)
put("vq", "split-indirect", vq_seed(2 | 4, 3, 0, 0x80, 0x100,
                                    ram_with([(0, ind), (0x80, avail), (TABLE, chain)])))


def packed_desc(addr, ln, bid, flags):
    return struct.pack("<QIHH", addr, ln, bid, flags)


AVAIL, NEXT, WRITE, INDIRECT = 1 << 7, 1, 2, 4
pchain = packed_desc(RAM_GPA + BUF_OUT, 64, 0, NEXT | AVAIL) + packed_desc(RAM_GPA + BUF_IN, 128, 0, WRITE | AVAIL)
for mode, name in ((1, "packed"), (3, "packed-event-idx")):
    put("vq", name, vq_seed(mode, 3, 0, 0x80, 0xc0, ram_with([(0, pchain)])))
pind = packed_desc(RAM_GPA + TABLE, 32, 0, INDIRECT | AVAIL)
itable = packed_desc(RAM_GPA + BUF_OUT, 64, 0, 0) + packed_desc(RAM_GPA + BUF_IN, 128, 0, WRITE)
put("vq", "packed-indirect", vq_seed(1 | 2 | 4, 3, 0, 0x80, 0xc0, ram_with([(0, pind), (TABLE, itable)])))
# IN_ORDER (0x40; 0x08 keeps the chain kind ANY): two read-only chains,
# whose length-0 uses share one used descriptor (2.8.8)
pro = packed_desc(RAM_GPA + BUF_OUT, 64, 0, AVAIL) + packed_desc(RAM_GPA + BUF_OUT, 64, 1, AVAIL)
put("vq", "packed-in-order", vq_seed(0x40 | 0x08 | 1, 3, 0, 0x80, 0xc0, ram_with([(0, pro)])))

# ---- peer_ring (common/peer_ring.c): see fuzz_peer_ring.c ----------------
ETH_IPV4 = bytes.fromhex("525400000002525400000001") + b"\x08\x00"


def ipv4(proto, payload_len, src=b"\xc0\x00\x02\x01", dst=b"\xc0\x00\x02\x02"):
    total = 20 + payload_len
    h = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, proto, 0, src, dst))
    s = sum(struct.unpack(">10H", bytes(h)))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    h[10:12] = struct.pack(">H", ~s & 0xffff)
    return bytes(h)


def tcp(payload_len, flags=0x18):
    return struct.pack(">HHIIBBHHH", 1234, 80, 1000, 0, 5 << 4, flags, 65535, 0, 0) + bytes(payload_len)


def vnet_hdr(flags=0, gso=0, hdr_len=0, gso_size=0, cstart=0, coff=0):
    return struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, cstart, coff, 0)


frame = ETH_IPV4 + ipv4(6, 20 + 26) + tcp(26)          # 80 bytes
rec = vnet_hdr() + frame


def ring_ops(ops, args, mode=0, start=None):
    b = bytes([mode])
    if start is not None:
        b += struct.pack("<I", start)
    return b + bytes([len(ops)]) + bytes(ops) + args


def rec_args(slot, off, r):
    return (struct.pack("<BII", slot, off, len(r)) +       # op 6: descriptor
            struct.pack("<IB", off, len(r)) + r)           # op 7: record bytes


put("peer_ring", "one-record", ring_ops([6, 7, 5, 0, 1, 2, 3, 4, 0], rec_args(0, 0, rec) + b"\x01"))
two = rec_args(15, 0, rec) + rec_args(0, 128, vnet_hdr(1, 0, 0, 0, 34, 16) + frame) + b"\x02"
put("peer_ring", "wrap", ring_ops([6, 7, 6, 7, 5, 0, 1, 0, 1, 2, 0], two, mode=1, start=0xffffffff))
put("peer_ring", "sleep", ring_ops([3, 6, 7, 5, 4, 0, 0, 1, 2, 3], rec_args(0, 0, rec) + b"\x01"))

# ---- peer_hello (host/peer/hello.c): see fuzz_peer_hello.c ---------------
MSG_MAGIC = 0x4c504e56
DESC, DATA = 8, 320 * 1024
DESC_AREA = 4096
FILE_SIZE = 4096 + DESC_AREA + DATA


def msg_hdr(mtype, size):
    return struct.pack("<IHHII", MSG_MAGIC, 1, mtype, size, 0)


def cstr(s, n):
    return s.encode().ljust(n, b"\0")


hello = (msg_hdr(1, 256) + struct.pack("<III", 1, DESC, DATA) + bytes.fromhex("525400000001") + bytes(6) +
         struct.pack("<Q", 0) + cstr("vm1", 48) + cstr("a", 48) + cstr("/run/vnet/vm1/a", 108) + bytes(4))
assert len(hello) == 256
geom = struct.pack("<IIIIIIQII", 0x52504e56, 1, DESC, DATA, 4096, 4096 + DESC_AREA, FILE_SIZE, 0, 0)
RING_BELL = 0 | (1 << 3)   # fd kinds: the ring memfd, an eventfd


def hello_seed(nfds, kinds, head, mode, arg, msg):
    return struct.pack("<BHB", nfds, kinds, len(head)) + head + bytes([mode]) + struct.pack("<I", arg) + msg


put("peer_hello", "hello", hello_seed(2, RING_BELL, geom, 0, 0, hello))
put("peer_hello", "hello-short-ring", hello_seed(2, RING_BELL, geom, 1, 0xff, hello))
put("peer_hello", "hello-swapped-fds", hello_seed(2, 1 | (0 << 3), geom, 0, 0, hello))
put("peer_hello", "features", hello_seed(0, 0, b"", 0, 0, msg_hdr(2, 32) + struct.pack("<IIQ", 1, 0, 0x3)))
put("peer_hello", "bye", hello_seed(0, 0, b"", 0, 0, msg_hdr(3, 128) + cstr("shutting down", 112)))
put("peer_hello", "ready", hello_seed(0, 0, b"", 0, 0, msg_hdr(4, 16)))
# An RSS configuration (hello.h struct peer_rss_msg, 328 bytes): on, the
# six hash types, a 4-entry table over queues 0..3, a 40-byte key.
put("peer_hello", "rss", hello_seed(0, 0, b"", 0, 0, msg_hdr(5, 328) +
    struct.pack("<IIHHB3x", 1, 0x3f, 4, 0, 40) + bytes(range(40)) +
    struct.pack("<128H", *([0, 1, 2, 3] + [0] * 124))))
put("peer_hello", "rss-off", hello_seed(0, 0, b"", 0, 0, msg_hdr(5, 328) + bytes(312)))
# MOVING: the peer's vdev moves on; hold 5000 ms.
put("peer_hello", "moving", hello_seed(0, 0, b"", 0, 0, msg_hdr(6, 24) + struct.pack("<II", 5000, 0)))

# ---- offload (host/dp/offload.c, common/gso.c, common/csum.c) ------------
NEEDS_CSUM = 1
ETH_IPV6 = bytes.fromhex("525400000002525400000001") + b"\x86\xdd"


def ipv6(nh, payload_len):
    return struct.pack(">IHBB16s16s", 6 << 28, payload_len, nh, 64, b"\xfd" + bytes(14) + b"\x01",
                       b"\xfd" + bytes(14) + b"\x02")


def udp(payload_len):
    return struct.pack(">HHHH", 1234, 53, 8 + payload_len, 0) + bytes(payload_len)


put("offload", "tso4", b"\x00" + vnet_hdr(NEEDS_CSUM, 1, 54, 100, 34, 16) + ETH_IPV4 + ipv4(6, 20 + 300) + tcp(300))
put("offload", "tso4-ecn", b"\x00" + vnet_hdr(NEEDS_CSUM, 0x81, 54, 128, 34, 16) + ETH_IPV4 + ipv4(6, 20 + 300) + tcp(300, 0x18 | 0x80))
put("offload", "tso6", b"\x00" + vnet_hdr(NEEDS_CSUM, 4, 74, 100, 54, 16) + ETH_IPV6 + ipv6(6, 20 + 300) + tcp(300))
put("offload", "ufo", b"\x00" + vnet_hdr(NEEDS_CSUM, 3, 42, 200, 34, 6) + ETH_IPV4 + ipv4(17, 8 + 600) + udp(600))
put("offload", "csum-tcp", b"\x00" + vnet_hdr(NEEDS_CSUM, 0, 0, 0, 34, 16) + ETH_IPV4 + ipv4(6, 20 + 30) + tcp(30))
put("offload", "csum-udp6", b"\x00" + vnet_hdr(NEEDS_CSUM, 0, 0, 0, 54, 6) + ETH_IPV6 + ipv6(17, 8 + 30) + udp(30))

# ---- vhost_user (host/face/vhost_user.c): see fuzz_vhost_user.c ----------
VHU = dict(GET_FEATURES=1, SET_FEATURES=2, SET_OWNER=3, SET_MEM_TABLE=5, SET_VRING_NUM=8,
           SET_VRING_ADDR=9, SET_VRING_BASE=10, GET_VRING_BASE=11, SET_VRING_KICK=12,
           SET_VRING_CALL=13, GET_PROTOCOL_FEATURES=15, SET_PROTOCOL_FEATURES=16,
           GET_QUEUE_NUM=17, SET_VRING_ENABLE=18, NET_SET_MTU=20, GET_CONFIG=24,
           RESET_DEVICE=34, SET_STATUS=39, GET_STATUS=40)
NEED_REPLY = 0x04


def vhu(req, payload=b"", ctl=NEED_REPLY, extra=b""):
    return bytes([ctl, VHU[req]]) + struct.pack("<H", len(payload)) + payload + extra


def vhu_split_ram():
    """Guest RAM: the transmitq (ring 1) at 0 with one 72-byte frame
    available at 0x800, the receiveq (ring 0) at 0x400 with one 1518-byte
    buffer at 0xa00."""
    tx = split_desc(0x800, 12 + 60, 0, 0)
    rx = split_desc(0xa00, 1518, 2, 0)
    avail1 = struct.pack("<HH8H", 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    frame = vnet_hdr() + ETH_IPV4 + ipv4(17, 8 + 18) + udp(18)
    return ram_with([(0, tx), (0x80, avail1), (0x400, rx), (0x480, avail1), (0x800, frame)], 0x800 + len(frame))


UADDR = 0x7f0000000000
VERSION_1 = 1 << 32
PROTOCOL_FEATURES = 1 << 30


def vhu_start(features):
    ram = vhu_split_ram()
    region = struct.pack("<QQQQ", 0, 0x100000, UADDR, 0)
    b = vhu("GET_FEATURES") + vhu("SET_FEATURES", struct.pack("<Q", features)) + vhu("SET_OWNER")
    b += vhu("SET_MEM_TABLE", struct.pack("<II", 1, 0) + region, extra=struct.pack("<H", len(ram)) + bytes(ram))
    for q, base in ((0, 0x400), (1, 0)):
        b += vhu("SET_VRING_NUM", struct.pack("<II", q, 8))
        b += vhu("SET_VRING_BASE", struct.pack("<II", q, 0))
        b += vhu("SET_VRING_ADDR", struct.pack("<IIQQQQ", q, 0, UADDR + base, UADDR + base + 0x100,
                                              UADDR + base + 0x80, 0))
        b += vhu("SET_VRING_KICK", struct.pack("<Q", q))
        b += vhu("SET_VRING_CALL", struct.pack("<Q", q))
    return b


put("vhost_user", "start-kick", vhu_start(VERSION_1) + b"\x81" + b"\x80" +
    vhu("GET_VRING_BASE", struct.pack("<II", 1, 0)))
proto = (vhu_start(VERSION_1 | PROTOCOL_FEATURES) +
         vhu("GET_PROTOCOL_FEATURES") +
         vhu("SET_PROTOCOL_FEATURES", struct.pack("<Q", (1 << 3) | (1 << 4) | (1 << 9) | (1 << 16))) +
         vhu("SET_VRING_ENABLE", struct.pack("<II", 0, 1)) + vhu("SET_VRING_ENABLE", struct.pack("<II", 1, 1)) +
         b"\x81" + vhu("GET_QUEUE_NUM") + vhu("NET_SET_MTU", struct.pack("<Q", 1500)) +
         vhu("GET_CONFIG", struct.pack("<III", 0, 6, 0) + bytes(6)) +
         vhu("SET_STATUS", struct.pack("<Q", 0xf)) + vhu("GET_STATUS") + vhu("RESET_DEVICE"))
put("vhost_user", "protocol", proto)
put("vhost_user", "bad-region", vhu("SET_MEM_TABLE", struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 0x200000, UADDR, 0),
                                    extra=b"\x00\x00") + vhu("GET_FEATURES"))

# ---- vfio_user (host/face/vfio_server.c, vfio_cmds.c): see fuzz_vfio_user.c
VFU = dict(VERSION=1, DMA_MAP=2, DMA_UNMAP=3, DEVICE_GET_INFO=4, GET_REGION_INFO=5,
           GET_REGION_IO_FDS=6, GET_IRQ_INFO=7, SET_IRQS=8, REGION_READ=9, REGION_WRITE=10,
           DEVICE_RESET=13)


def vfu(cmd, payload=b"", ctl=0, extra=b""):
    return bytes([ctl, VFU[cmd]]) + struct.pack("<H", len(payload)) + payload + extra


caps = b'{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576}}\0'
hello_v = vfu("VERSION", struct.pack("<HH", 0, 1) + caps)
info = vfu("DEVICE_GET_INFO", struct.pack("<IIII", 16, 0, 0, 0))
for i in range(9):
    info += vfu("GET_REGION_INFO", struct.pack("<IIIIQQ", 32, 0, i, 0, 0, 0))
for i in range(5):
    info += vfu("GET_IRQ_INFO", struct.pack("<IIII", 16, 0, i, 0))
put("vfio_user", "version-info", hello_v + info)
ram = vhu_split_ram()
dma = vfu("DMA_MAP", struct.pack("<IIQQQ", 32, 3, 0, 0x100000, 0x10000),
          extra=struct.pack("<H", len(ram)) + bytes(ram))
cfg = (vfu("REGION_READ", struct.pack("<QII", 0, 7, 64)) +
       vfu("REGION_WRITE", struct.pack("<QII", 4, 7, 2) + struct.pack("<H", 6)) +
       vfu("REGION_READ", struct.pack("<QII", 0, 0, 64)) +
       vfu("GET_REGION_IO_FDS", struct.pack("<IIII", 16, 0, 0, 0)) +
       vfu("SET_IRQS", struct.pack("<IIIII", 20, 0x4 | 0x20, 2, 0, 4)) +
       vfu("REGION_WRITE", struct.pack("<QII", 0x14, 0, 1) + b"\x0f"))
put("vfio_user", "dma-config", hello_v + dma + cfg +
    vfu("DMA_UNMAP", struct.pack("<IIQQ", 24, 0, 0x100000, 0x10000)) + vfu("DEVICE_RESET"))
put("vfio_user", "no-version", info[:40] + vfu("REGION_READ", struct.pack("<QII", 0, 7, 4)))


def bar0(off, data):
    return vfu("REGION_WRITE", struct.pack("<QII", off, 0, len(data)) + data)


ram = vhu_split_ram()
up = hello_v + vfu("DMA_MAP", struct.pack("<IIQQQ", 32, 3, 0, 0, 0x10000),
                   extra=struct.pack("<H", len(ram)) + bytes(ram))
up += vfu("SET_IRQS", struct.pack("<IIIII", 20, 0x4 | 0x20, 2, 0, 4))
up += bar0(0x14, b"\x00") + bar0(0x14, b"\x03") + bar0(0x08, struct.pack("<I", 1)) + bar0(0x0c, struct.pack("<I", 1))
up += bar0(0x14, b"\x0b")
for q, base in ((0, 0x400), (1, 0)):
    up += bar0(0x16, struct.pack("<H", q)) + bar0(0x18, struct.pack("<H", 8))
    up += bar0(0x20, struct.pack("<Q", base)) + bar0(0x28, struct.pack("<Q", base + 0x80))
    up += bar0(0x30, struct.pack("<Q", base + 0x100)) + bar0(0x1c, struct.pack("<H", 1))
up += bar0(0x14, b"\x0f") + bar0(0x3000 + 4, struct.pack("<H", 1))
up += vfu("REGION_READ", struct.pack("<QII", 0x14, 0, 1))
put("vfio_user", "bring-up-kick", up)

# ---- vq_drv (common/ring/, driver side): see fuzz_vq_drv.c ---------------


def drv_seed(mode, size_log2, ops, args):
    return bytes([mode, size_log2, len(ops) // 2]) + bytes(ops) + args


def w16(off, v):
    return struct.pack("<HH", off, v)


def w32(off, v):
    return struct.pack("<HI", off, v)


# split, 8 entries: desc 0..128, avail 128..150, used at 152 (4-aligned)
ops = [0, 5, 1, 0, 7, 0, 7, 0, 6, 0, 2, 0, 3, 0, 0, 5, 0, 1, 1, 0, 5, 0, 2, 0, 4, 0]
put("vq_drv", "split", drv_seed(0, 3, ops, w32(156, 0) + w32(160, 100) + w16(154, 1)))
put("vq_drv", "split-event-idx", drv_seed(2, 3, ops, w32(156, 0) + w32(160, 100) + w16(154, 1)))
put("vq_drv", "split-indirect", drv_seed(6, 3, ops, w32(156, 0) + w32(160, 100) + w16(154, 1)))
# packed, 8 entries: the device marks slot 0 used (id 0, 100 bytes written:
# AVAIL|USED|WRITE; 2.8.4: the length counts only with WRITE)
pops = [0, 5, 1, 0, 7, 0, 6, 0, 6, 0, 2, 0, 3, 0, 0, 5, 1, 0, 5, 0, 2, 0]
pargs = w32(8, 100) + w16(12, 0) + w16(14, 0x8082)
put("vq_drv", "packed", drv_seed(1, 3, pops, pargs))
put("vq_drv", "packed-event-idx-indirect", drv_seed(7, 3, pops, pargs))
# IN_ORDER (0x10): the same scripts; a used id past the oldest is a batch
put("vq_drv", "split-in-order", drv_seed(0x10, 3, ops, w32(156, 0) + w32(160, 100) + w16(154, 1)))
put("vq_drv", "packed-in-order", drv_seed(0x11, 3, pops, pargs))

# ---- guest_dev (guest/: the driver library against a lying device): see
# fuzz_guest_dev.c for the input layout.  The reply numbers the tampered
# seeds name are those of a pci-modern bring-up with these parameters (see
# them with FUZZ_VERBOSE=1 build-fuzz/fuzz_guest_dev FILE).
GD_OP = dict(tx=0, rx=1, drain=2, wait=3, wait_fd=4, ctrl_rx=5, ctrl_table=6, ctrl_mac=7,
             reset=8, info=9, misc=10, arm=11, kicks=12, device=13, ctrl_rss=14)
ACT_RX, ACT_RAM, ACT_IRQ, ACT_LINK, ACT_NEEDS_RESET = range(5)
TAMP_XOR, TAMP_ERROR, TAMP_HDR, TAMP_LEN, TAMP_FDS, TAMP_SRV_CMD, TAMP_ACT = range(7)
NO_IOFDS = 4                                    # sel: kicks are region writes
PAIRS2 = 2 << 3                                 # sel: two queue pairs
HASH_REPORT, RSS = 0x20, 0x40                   # sel: want_hash_report, want_rss
RX_HASH = 0x08                                  # act_rx: hash fields from the input
PACKED, OFFLOADS, POLL, INTX, DEFER = 1, 2, 4, 8, 0x10
RAM8 = 0x40
QS32 = 6                                        # qs n: queue size 1 << (n - 1)


def gd(sel=0, pf=0, qs=QS32, tampers=(), ops=b"", decline=None):
    b = bytes([sel, pf | (0x20 if decline is not None else 0), qs])
    if decline is not None:
        b += struct.pack("<Q", decline)
    return b + bytes([len(tampers)]) + b"".join(tampers) + ops


def op(name, args=b""):
    return bytes([GD_OP[name]]) + args


def gd_tx(*frames):
    """frames: (length, 12-byte header or None, first up to 64 bytes)."""
    b = bytes([GD_OP["tx"], len(frames) - 1])
    for ln, hdr, head in frames:
        big = ln >= 1600
        b += bytes([(1 if hdr else 0) | (0x80 if big else 0)])
        b += struct.pack("<H", ln - 32 if big else ln) + head[:64].ljust(min(ln, 64), b"\0")
        if hdr:
            b += hdr
    return b


def act_rx(ln, hdr=None, flags=0, used_len=None, nbufs=None, hash_fields=None):
    b = bytes([GD_OP["device"], ACT_RX, flags | (RX_HASH if hash_fields else 0)]) + struct.pack("<H", ln) + (hdr or vnet_hdr())
    if hash_fields:
        b += hash_fields
    if flags & 1:
        b += struct.pack("<I", used_len)
    if flags & 2:
        b += struct.pack("<H", nbufs)
    return b


def ram_write(area, idx, off, data):
    return bytes([ACT_RAM, len(data) - 1, area]) + struct.pack("<HI", idx, off) + data


def act(code, flags=0):
    return bytes([GD_OP["device"], code, flags])


def tamper(kind, k, body):
    return bytes([kind]) + struct.pack("<H", k) + body


def xor(k, off, data):
    return tamper(TAMP_XOR, k, struct.pack("<HB", off, len(data) - 1) + data)


udp_frame = ETH_IPV4 + ipv4(17, 8 + 18) + udp(18)                   # 60 bytes
tso_frame = ETH_IPV4 + ipv4(6, 20 + 3000) + tcp(3000)
rx_ops = op("rx", struct.pack("<H", 32))
data_path = (gd_tx((60, None, udp_frame), (60, None, udp_frame)) + act_rx(60) + act_rx(200) + rx_ops +
             op("drain") + op("wait"))
ctrl = (op("ctrl_rx", b"\x80") + op("ctrl_rx", b"\x01") + op("ctrl_table", bytes([2 | 1 << 3])) +
        bytes.fromhex("525400000101" "525400000102" "01005e000001") + op("ctrl_mac", bytes.fromhex("525400000777")))
info = op("info") + op("misc", b"\x04")
put("guest_dev", "modern", gd(ops=data_path + ctrl + info))
put("guest_dev", "packed", gd(pf=PACKED, ops=data_path + ctrl + info))
put("guest_dev", "no-iofds", gd(sel=NO_IOFDS, ops=data_path + ctrl + info))
put("guest_dev", "poll", gd(pf=POLL, ops=data_path + op("arm", b"\x01") + op("wait_fd", b"\x01") + info))
put("guest_dev", "intx", gd(pf=INTX, ops=data_path + act(ACT_IRQ, 1) + op("wait") + act(ACT_IRQ, 0) + op("wait") + info))
put("guest_dev", "caller-loop", gd(pf=DEFER, ops=gd_tx((60, None, udp_frame)) + op("kicks", b"\x03") + act_rx(60) +
                                    op("arm", b"\x01") + op("arm", b"\x00") + rx_ops + op("kicks", b"\x03") + info))
put("guest_dev", "legacy", gd(sel=1, qs=0, ops=data_path + ctrl + info))
put("guest_dev", "mmio-v2", gd(sel=2, ops=data_path + ctrl + info))
put("guest_dev", "mmio-v1", gd(sel=3, ops=data_path + ctrl + info))
put("guest_dev", "reset-replay", gd(ops=ctrl + data_path + op("reset") + data_path + info))
put("guest_dev", "link-announce", gd(ops=act(ACT_LINK, 3) + op("wait") + op("drain") + act(ACT_LINK, 0) +
                                      op("wait") + info))
# Offloads: a TSO frame and a partial checksum out; in, a checksummed
# frame and a 3000-byte GSO frame over two 2 KiB buffers (MRG_RXBUF).
tso_hdr = vnet_hdr(NEEDS_CSUM, 1, 54, 1448, 34, 16)
csum_hdr = vnet_hdr(NEEDS_CSUM, 0, 0, 0, 34, 6)
put("guest_dev", "offloads", gd(pf=OFFLOADS | RAM8, ops=gd_tx((len(tso_frame), tso_hdr, tso_frame), (60, csum_hdr, udp_frame)) +
                                act_rx(60, csum_hdr) + act_rx(3054, tso_hdr) + rx_ops + op("drain") + info))
put("guest_dev", "offloads-packed", gd(pf=OFFLOADS | PACKED | RAM8, ops=act_rx(3054, tso_hdr) + rx_ops +
                                       gd_tx((len(tso_frame), tso_hdr, tso_frame)) + info))
# HASH_REPORT (20-byte header): without RSS on the modern device (HASH_CONFIG
# at open, then vnet_ctrl_rss: all types, then a 41-byte key refused before
# sending), and with RSS on two pairs (RSS_CONFIG); frames whose hash
# fields the device fills, one with a report type nobody knows.
def gd_rss(flags, types, key_len, table=(), unclassified=0):
    """flags: bit 7 types as u32, bit 6 a 3-entry table, else 1 << (flags % 9) entries."""
    b = bytes([GD_OP["ctrl_rss"], flags])
    b += struct.pack("<I", types) if flags & 0x80 else bytes([types])
    b += bytes([key_len]) + bytes(range(min(key_len, 40)))
    n = 3 if flags & 0x40 else 1 << (flags % 9)
    return b + bytes(table).ljust(min(n, 128), b"\0") + bytes([unclassified])


hash_rx = (act_rx(60, hash_fields=struct.pack("<IHH", 0x12345678, 3, 0)) +
           act_rx(60, hash_fields=struct.pack("<IHH", 0xdeadbeef, 0x77, 5)) + rx_ops)
put("guest_dev", "hash-report", gd(sel=HASH_REPORT, ops=data_path + hash_rx + gd_rss(0, 0x3f, 40) +
                                   gd_rss(0, 0x3f, 41) + op("reset") + hash_rx + info))
put("guest_dev", "rss-hash-report", gd(sel=HASH_REPORT | RSS | PAIRS2, ops=data_path + hash_rx +
                                       gd_rss(3, 0x3f, 40, table=(0, 1, 1, 0, 0, 1, 1, 0)) +
                                       gd_rss(3, 0x3f, 40, table=(0, 4)) + info))

# A device that lies.  RX used ring (queue 0's device area): element 0's id.
put("guest_dev", "tamper-used-id", gd(ops=act_rx(60) + bytes([GD_OP["device"]]) + ram_write(0x03, 0, 4, b"\x77\x77") +
                                      rx_ops + op("info") + op("reset") + act_rx(60) + rx_ops + info))
# Its used length larger than the buffer, and num_buffers 0.
put("guest_dev", "tamper-rx-len", gd(ops=act_rx(60, flags=1, used_len=0x10000) + rx_ops + op("reset") +
                                     act_rx(60, flags=2, nbufs=0) + rx_ops + info))
# FEATURES_OK read back cleared (reply 36): the features were refused.
put("guest_dev", "tamper-features-ok", gd(tampers=[xor(36, 16, b"\x08")], ops=info))
# The MTU read while negotiating (reply 29) is 16: the feature goes.
put("guest_dev", "tamper-mtu", gd(tampers=[xor(29, 16, b"\xcc\x05")], ops=data_path + info))
# The controlq ack (queue 2, indirect entry 2 of descriptor 0) turned ERR
# right after the device answered the kick (reply 96, a region write).
put("guest_dev", "tamper-ctrl-ack", gd(sel=NO_IOFDS, tampers=[tamper(TAMP_ACT, 96, ram_write(0x24, 0x200, 0, b"\x01"))],
                                       ops=ctrl + info))
# PCI config space read refused (reply 17): read again dword by dword.
put("guest_dev", "tamper-config-error", gd(tampers=[tamper(TAMP_ERROR, 17, b"\x05")], ops=data_path + info))
# A DMA_READ from the "server" before reply 20, and GET_REGION_IO_FDS's
# fds gone (reply 19): kicks become region writes.
put("guest_dev", "tamper-server-cmd", gd(tampers=[tamper(TAMP_SRV_CMD, 20, b"\x08"), tamper(TAMP_FDS, 19, b"\x01")],
                                         ops=data_path + info))
put("guest_dev", "needs-reset", gd(ops=act(ACT_NEEDS_RESET) + op("wait") + data_path + op("reset") + data_path + info))

# ---- state: a device state blob (host/dev/state_fmt.h) -------------------
# Mode byte: bit 0 fixes length and CRC (so mutations reach the records),
# bits 1-2 the transport (0 pci-modern, 1 pci-legacy, 2 mmio-v2).  The
# device is "f" (MAC 52:54:00:00:07:01) with 2 queue pairs: 5 queues.
STATE_TRANSPORT_LEN = {0: 256 + 4096 + 2 + 2 * 17 + 4 + 16, 1: 256 + 4096 + 2 + 2 * 17 + 4 + 16,
                       2: 24 + 8 * 17}
STATE_TRANSPORT_NAME = {0: b"pci-modern", 1: b"pci-legacy", 2: b"mmio-v2"}


def state_rec(rtype, data):
    pad = (-len(data)) % 8
    return struct.pack("<HHI", rtype, 0, len(data)) + data + b"\0" * pad


def state_blob(records):
    body = b"".join(records)
    length = 24 + len(body)
    crc = zlib.crc32(body) & 0xffffffff
    return b"VNETDEV\0" + struct.pack("<IIII", 1, length, crc, len(records)) + body


def state_seed(kind, status=0, features=0, queues=(), ctrl=()):
    ident = (cstr("f", 48) + cstr(STATE_TRANSPORT_NAME[kind].decode(), 16) +
             b"\x52\x54\x00\x00\x07\x01" + bytes([1 if kind == 1 else 0, 0]) + struct.pack("<H", 2) + b"\0" * 6)
    virtio = struct.pack("<QQBBHI", features, features, status, 0, 0, 0) + b"\0" * 160
    recs = [state_rec(1, ident), state_rec(2, virtio)]
    for (idx, size, enabled, base, addr) in queues:
        recs.append(state_rec(3, struct.pack("<HHB3xIIQQQ", idx, size, enabled, base, 0, addr, addr + 0x1000,
                                             addr + 0x2000)))
    for c in ctrl:
        recs.append(state_rec(4, c))
    recs.append(state_rec(5, b"\0" * STATE_TRANSPORT_LEN[kind]))
    return state_blob(recs)


V1 = 1 << 32
CTRL_VQ, MQ = 1 << 17, 1 << 22
for kind in (0, 1, 2):
    name = STATE_TRANSPORT_NAME[kind].decode()
    put("state", name + "-reset", bytes([kind << 1]) + state_seed(kind))
    feats = (0 if kind == 1 else V1) | CTRL_VQ | MQ
    qs = [(q, 256, 1, 0, 0x10000 * (q + 1)) for q in range(5)]
    put("state", name + "-running", bytes([1 | kind << 1]) +
        state_seed(kind, status=0x7 if kind == 1 else 0xf, features=feats, queues=qs,
                   ctrl=[b"\x04\x00\x02\x00", b"\x00\x00\x00"]))
