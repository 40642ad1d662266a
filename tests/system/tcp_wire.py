"""TCP segments as frames on a tap, built and read by hand (RFC 791, RFC
9293 headers), for tests that need a segment Linux's own sockets would
not send, such as a SYN with a chosen sequence number from a port the
namespace's kernel has no socket on."""
import struct

ETH_IP = 0x0800
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def addr(dotted):
    return bytes(int(x) for x in dotted.split("."))


def tcp_frame(src_mac, dst_mac, src, dst, sport, dport, seq, ack=0, flags=SYN, window=65535):
    """An Ethernet frame with one IPv4 TCP segment and no data; a SYN
    carries the MSS option (1460)."""
    opts = struct.pack("!BBH", 2, 4, 1460) if flags & SYN else b""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % (1 << 32), ack % (1 << 32),
                      (5 + len(opts) // 4) << 4, flags, window, 0, 0) + opts
    pseudo = addr(src) + addr(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     addr(src), addr(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return (bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) +
            struct.pack("!H", ETH_IP) + ip + tcp)


def tcp_of(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload length) of an
    IPv4 TCP frame, or None."""
    if len(frame) < 34 or struct.unpack("!H", frame[12:14])[0] != ETH_IP or frame[23] != 6:
        return None
    hlen = (frame[14] & 0xF) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    t = 14 + hlen
    if len(frame) < t + 20:
        return None
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", frame[t:t + 14])
    src = ".".join(str(b) for b in frame[26:30])
    dst = ".".join(str(b) for b in frame[30:34])
    return src, dst, sport, dport, seq, ack, flags, total - hlen - (off >> 4) * 4
