"""pymodbus as the client of a Modbus TCP server at 127.0.0.1:argv[1]. Prints one line per
step (what a user of the server would check), then "done"."""
import socket
import struct
import sys

from pymodbus.client import ModbusTcpClient

port = int(sys.argv[1])
c = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
assert c.connect(), "connect"


def show(name, r):
    if r.isError():
        print(name, "exception", getattr(r, "exception_code", "?"), flush=True)
    elif hasattr(r, "registers") and r.registers:
        print(name, "regs", " ".join(map(str, r.registers)), flush=True)
    elif hasattr(r, "bits") and r.bits:
        print(name, "bits", "".join("1" if b else "0" for b in r.bits), flush=True)
    else:
        print(name, "ok", flush=True)


try:
    kw = {"device_id": 1}
    c.read_holding_registers(0, count=1, **kw)
except TypeError:
    kw = {"slave": 1}
show("read_holding", c.read_holding_registers(10, count=4, **kw))
show("read_input", c.read_input_registers(0, count=2, **kw))
show("write_register", c.write_register(5, 4242, **kw))
show("read_back", c.read_holding_registers(5, count=1, **kw))
show("write_registers", c.write_registers(20, [1, 2, 3], **kw))
show("write_coil", c.write_coil(3, True, **kw))
show("write_coils", c.write_coils(8, [True, False, True, True, False, False, False, False, True], **kw))
show("read_coils", c.read_coils(8, count=9, **kw))
show("read_discrete", c.read_discrete_inputs(0, count=3, **kw))
show("read_beyond", c.read_holding_registers(1000, count=2, **kw))
c.close()

# Raw frames pymodbus will not send: an unknown function, a byte count that lies, a
# quantity past the limit, a single-coil value other than 0x0000/0xFF00.
s = socket.create_connection(("127.0.0.1", port), timeout=3)
s.sendall(struct.pack("!HHHBB", 77, 0, 2, 1, 0x2B))
print("raw_bad_function", s.recv(64).hex(), flush=True)
s.sendall(struct.pack("!HHHBBHHB", 78, 0, 9, 1, 16, 0, 2, 3) + b"\0\0")
print("raw_bad_count", s.recv(64).hex(), flush=True)
s.sendall(struct.pack("!HHHBBHH", 79, 0, 6, 1, 3, 0, 126))
print("raw_too_many", s.recv(64).hex(), flush=True)
s.sendall(struct.pack("!HHHBBHH", 80, 0, 6, 1, 5, 0, 0x1234))
print("raw_bad_coil_value", s.recv(64).hex(), flush=True)
s.close()
print("done", flush=True)
