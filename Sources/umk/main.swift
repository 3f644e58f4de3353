import UmkHost
import Glibc
import Foundation
let pm = try PhysicalMemory(size: 1 << 24)
let s = try StubProcess(physicalMemory: pm, dataOffset: 0)
try s.map(address: 0x400000, length: 8192, prot: PROT_READ|PROT_WRITE, offset: 16384)
try s.map(address: 0x402000, length: 4096, prot: PROT_READ|PROT_WRITE, offset: 16384+8192)
try s.flush()
print(try String(contentsOfFile: "/proc/\(s.pid)/maps", encoding: .utf8))
system("ls -l /proc/\(s.pid)/fd; cat /proc/\(s.pid)/status | grep -E 'State|Tracer|Cpus_allowed_list'")
