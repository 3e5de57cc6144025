"""RFC 2217 against the real judge: pyserial's ``rfc2217://`` client (strict
mode, no ``ign_set_control``) talking to the gateway on a socat pty pair.

Settings are checked where the kernel keeps them: ``termios.tcgetattr`` on
the gateway's own descriptor of the pty.  Scripted raw-socket clients cover
what pyserial never sends (refusals, repeated options, endless
subnegotiations, garbage, a client that vanishes mid-negotiation).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import termios
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
import serial
from mqtt_fixtures import free_port
from ptyio import read_fd, write_fd

from circuits.protocols.telnet import constants as C
from gateway.app import Gateway
from gateway.config import GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.rfc2217.port import LineErrors, modem_lines, modem_state
from gateway.socat import SocatPair

TIMEOUT = 10.0
IAC, SB, SE = bytes([C.IAC]), bytes([C.SB]), bytes([C.SE])

pytestmark = pytest.mark.timeout(90)


# -- harness -------------------------------------------------------------------


def config_for(state_dir: Path, web: int | None = None, **device: Any) -> GatewayConfig:
    lines = ["[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(state_dir))}", "", "[[device]]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in device.items()]
    if web is not None:
        lines += ["", "[web]", f'listen = "127.0.0.1:{web}"']
    return parse_config("\n".join(lines) + "\n", "<test>", check_profile=check_profile)


@contextmanager
def gateway_on(tmp_path: Path, pair: SocatPair, web: int | None = None,
               **device: Any) -> Iterator[tuple[Gateway, fx.BusLog, int]]:
    port = free_port(0)
    settings = {"name": "dev", "port": str(pair.dev), "profile": "raw", "rfc2217": f"127.0.0.1:{port}"}
    config = config_for(tmp_path, web, **(settings | device))
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        bus.wait("device_status", lambda d, status, detail: status == "online")
        yield gateway, bus, port


def client(port: int, **kwargs: Any) -> AbstractContextManager[serial.Serial]:
    """pyserial's own RFC 2217 client, strict mode (no ign_set_control)."""
    kwargs.setdefault("baudrate", 115200)
    kwargs.setdefault("timeout", TIMEOUT)
    return serial.serial_for_url(f"rfc2217://127.0.0.1:{port}", **kwargs)  # type: ignore[no-any-return]


def kernel(gateway: Gateway) -> list[Any]:
    """termios.tcgetattr of the gateway's own descriptor of the pty."""
    port = gateway.links["dev"].serial.device
    assert port is not None, "the gateway has no open port"
    return termios.tcgetattr(port.fileno())




def until(predicate: Any, what: str, timeout: float = TIMEOUT) -> None:
    """Wait for a condition of the gateway's state, with a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def read_serial(port: serial.Serial, size: int) -> bytes:
    """``size`` bytes from pyserial; fails after TIMEOUT without progress (not for a slow total)."""
    data = b""
    while len(data) < size:
        chunk = port.read(size - len(data))
        assert chunk, f"got {len(data)} of {size} bytes"
        data += chunk
    return data


@pytest.fixture
def peer(pair: SocatPair) -> Iterator[int]:
    fd = pair.open_peer()
    yield fd
    os.close(fd)


# -- data --------------------------------------------------------------------------


def test_every_byte_value_both_ways_iac_doubled(tmp_path: Path, pair: SocatPair, peer: int) -> None:
    every = bytes(range(256)) * 4  # IAC (255) many times, also IAC IAC and IAC SE in the data
    with gateway_on(tmp_path, pair) as (gateway, bus, port), client(port) as remote:
        remote.write(every)
        assert read_fd(peer, len(every)) == every
        write_fd(peer, every)
        assert read_serial(remote, len(every)) == every
        assert gateway.links["dev"].bytes_out == len(every)


def test_four_mib_intact_both_ways(tmp_path: Path, pair: SocatPair, peer: int) -> None:
    # pyserial's reader thread queues what it receives one byte at a time,
    # so it is the bottleneck device -> client (tens of KB/s on a loaded
    # machine): 4 MiB go to a raw Telnet client that way, 64 KiB to pyserial.
    payload = os.urandom(4 << 20)
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        with client(port) as remote:
            writer = threading.Thread(target=remote.write, args=(payload,))
            writer.start()
            assert hashlib.sha256(read_fd(peer, len(payload), 60)).digest() == hashlib.sha256(payload).digest()
            writer.join()
            assert gateway.links["dev"].dropped_to_device == 0
            part = payload[:64 << 10]
            feeder = threading.Thread(target=write_fd, args=(peer, part, 60))
            feeder.start()
            assert read_serial(remote, len(part)) == part
            feeder.join()
        sock = agreed_client(port, bus)
        feeder = threading.Thread(target=write_fd, args=(peer, payload, 60))
        feeder.start()
        wire = bytearray()
        sock.settimeout(TIMEOUT)
        # Only data follows the negotiation here (a pty sends no modem state
        # changes): IAC IAC pairs and other bytes, so the count is exact.
        while len(wire) - wire.count(IAC + IAC) < len(payload):
            chunk = sock.recv(1 << 16)
            assert chunk, f"closed after {len(wire)} bytes"
            wire += chunk
        feeder.join()
        assert bytes(wire).replace(IAC + IAC, IAC) == payload
        sock.close()


# -- settings seen by the kernel ------------------------------------------------------


def kernel_takes(cflag_bits: int, mask: int) -> bool:
    """Whether this kernel's ptys keep ``cflag_bits`` (Linux 6.x refuses 7 data
    bits and parity on a pty with EINVAL): probed on a scratch pty."""
    master, slave = os.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[2] = (attrs[2] & ~mask) | cflag_bits
        try:
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
        except termios.error:
            return False
        return termios.tcgetattr(slave)[2] & mask == cflag_bits
    finally:
        os.close(master)
        os.close(slave)


def change_or_learn_the_truth(remote: serial.Serial, attr: str, value: Any, takes: bool) -> None:
    """Set ``attr``; where the pty cannot have it pyserial must hear the real value and raise."""
    if takes:
        setattr(remote, attr, value)
    else:
        with pytest.raises((serial.SerialException, ValueError), match="rejected"):
            setattr(remote, attr, value)
        setattr(remote, attr, {"bytesize": 8, "parity": "N"}[attr])  # what the port has: accepted


def test_settings_changes_reach_the_kernel(tmp_path: Path, pair: SocatPair, peer: int) -> None:
    seven = kernel_takes(termios.CS7, termios.CSIZE)
    parity = kernel_takes(termios.PARENB, termios.PARENB | termios.PARODD)
    with gateway_on(tmp_path, pair, rfc2217_revert=False) as (gateway, _bus, port):
        with client(port, baudrate=9600) as remote:
            assert kernel(gateway)[5] == termios.B9600
            remote.baudrate = 57600
            assert kernel(gateway)[4:6] == [termios.B57600, termios.B57600]
            remote.stopbits = serial.STOPBITS_TWO
            assert kernel(gateway)[2] & termios.CSTOPB
            change_or_learn_the_truth(remote, "bytesize", serial.SEVENBITS, seven)
            cflag = kernel(gateway)[2]
            assert cflag & termios.CSIZE == (termios.CS7 if seven else termios.CS8)
            change_or_learn_the_truth(remote, "parity", serial.PARITY_EVEN, parity)
            cflag = kernel(gateway)[2]
            assert bool(cflag & termios.PARENB) == parity and not cflag & termios.PARODD
            remote.baudrate = 250000  # no B constant: set and read back through termios2
            assert gateway.rfc2217["dev"].control.settings().baudrate == 250000
            remote.stopbits = serial.STOPBITS_ONE
            assert not kernel(gateway)[2] & termios.CSTOPB
            # Data still flows after all that.
            write_fd(peer, b"after\n")
            assert read_serial(remote, 6) == b"after\n"
        stats = gateway.rfc2217["dev"].statistics()
        assert stats["changes"] >= 4
        assert stats["settings"]["baudrate"] == 250000  # not reverted: rfc2217_revert = false


def test_purge_break_and_control_lines_on_a_pty_keep_the_session(tmp_path: Path, pair: SocatPair,
                                                                    peer: int) -> None:
    with gateway_on(tmp_path, pair) as (_gateway, _bus, port), client(port) as remote:
        remote.reset_input_buffer()
        remote.reset_output_buffer()
        remote.send_break(0.05)
        for value in (False, True, False):
            remote.dtr = value
            remote.rts = value
        remote.write(b"still here")
        assert read_fd(peer, 10) == b"still here"


def test_modem_state_poll_is_answered_with_zero_on_a_pty(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair) as (_gateway, _bus, port):
        with client(port) as remote:
            # The first notification came when the option was agreed.
            assert (remote.cts, remote.dsr, remote.ri, remote.cd) == (False, False, False, False)
        url = f"rfc2217://127.0.0.1:{port}?poll_modem"
        with serial.serial_for_url(url, baudrate=115200, timeout=TIMEOUT) as polling:
            assert polling.get_modem_state() == 0
            assert polling.cts is False


# -- policies -----------------------------------------------------------------------------


def test_lock_answers_every_change_with_the_configured_value(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair, baudrate=19200, rfc2217_settings="lock") as (gateway, _bus, port):
        with pytest.raises((serial.SerialException, ValueError), match="rejected|accept"):
            client(port, baudrate=9600)
        assert kernel(gateway)[5] == termios.B19200
        with client(port, baudrate=19200) as remote:
            with pytest.raises((serial.SerialException, ValueError), match="rejected|accept"):
                remote.baudrate = 115200
            assert kernel(gateway)[5] == termios.B19200
        with pytest.raises((serial.SerialException, ValueError), match="rejected|accept"):
            client(port, baudrate=19200, stopbits=serial.STOPBITS_TWO)
        assert not kernel(gateway)[2] & termios.CSTOPB
        assert gateway.rfc2217["dev"].control.refused >= 3
        assert gateway.rfc2217["dev"].control.changes == 0


def test_limits_allow_listed_baud_rates_only(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair, rfc2217_settings="limits", rfc2217_baudrates=[9600, 115200],
                    rfc2217_revert=False) as (gateway, _bus, port):
        with client(port, baudrate=9600) as remote:
            assert kernel(gateway)[5] == termios.B9600
            with pytest.raises((serial.SerialException, ValueError), match="rejected|accept"):
                remote.baudrate = 57600
            assert kernel(gateway)[5] == termios.B9600
        with client(port, baudrate=115200, stopbits=serial.STOPBITS_TWO):  # other settings are free
            assert kernel(gateway)[5] == termios.B115200
            assert kernel(gateway)[2] & termios.CSTOPB


def test_revert_when_the_last_rfc2217_client_leaves(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair, baudrate=38400) as (gateway, bus, port):
        first = client(port, baudrate=9600)
        second = client(port, baudrate=9600, stopbits=serial.STOPBITS_TWO)
        first_port = first._socket.getsockname()[1]
        first.close()
        bus.wait("client_disconnected", lambda d, peer, reason, n: peer[1] == first_port)
        assert kernel(gateway)[5] == termios.B9600, "reverted while a client was still there"
        second_port = second._socket.getsockname()[1]
        second.close()
        bus.wait("client_disconnected", lambda d, peer, reason, n: peer[1] == second_port)
        attrs = kernel(gateway)
        assert attrs[5] == termios.B38400
        assert not attrs[2] & termios.CSTOPB
        assert gateway.rfc2217["dev"].control.reverts == 1


# -- sharing the device -----------------------------------------------------------------


def test_raw_tcp_client_rfc2217_client_and_the_parser_at_once(tmp_path: Path, pair: SocatPair, peer: int) -> None:
    tcp_port = free_port(0)
    with gateway_on(tmp_path, pair, profile="keyvalue", tcp=f"127.0.0.1:{tcp_port}") as (gateway, bus, port):
        raw = socket.create_connection(("127.0.0.1", tcp_port), timeout=TIMEOUT)
        local = raw.getsockname()[1]
        bus.wait("client_connected", lambda d, peer_, n: peer_[1] == local)
        with raw, client(port) as remote:
            line = b"temp=21.5 hum=40\n"
            write_fd(peer, line)
            assert read_serial(remote, len(line)) == line
            got = b""
            while len(got) < len(line):
                got += raw.recv(100)
            assert got == line
            assert bus.wait("reading")[0][0]["fields"] == {"temp": 21.5, "hum": 40}
            remote.write(b"from remote\n")
            assert read_fd(peer, 12) == b"from remote\n"
            raw.sendall(b"from raw\n")
            assert read_fd(peer, 9) == b"from raw\n"


def test_a_slow_rfc2217_client_is_dropped_while_the_tcp_client_gets_everything(
        tmp_path: Path, pair: SocatPair, peer: int) -> None:
    tcp_port = free_port(0)
    payload = os.urandom(1 << 20) * 4
    with gateway_on(tmp_path, pair, tcp=f"127.0.0.1:{tcp_port}", client_buffer=65536) as (gateway, bus, port):
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", port))  # a Telnet client that never reads
        slow_port = slow.getsockname()[1]
        bus.wait("client_connected", lambda d, peer_, n: peer_[1] == slow_port)
        fast = socket.create_connection(("127.0.0.1", tcp_port), timeout=TIMEOUT)
        fast_port = fast.getsockname()[1]
        bus.wait("client_connected", lambda d, peer_, n: peer_[1] == fast_port)
        writer = threading.Thread(target=write_fd, args=(peer, payload, 60))
        writer.start()
        digest = hashlib.sha256()
        got = 0
        while got < len(payload):
            chunk = fast.recv(1 << 16)
            assert chunk, "the TCP client was disconnected"
            digest.update(chunk)
            got += len(chunk)
        writer.join()
        assert digest.digest() == hashlib.sha256(payload).digest()
        dropped = bus.wait("client_disconnected", lambda d, peer_, reason, n: peer_[1] == slow_port)
        assert dropped[0][2] == "too slow"
        slow.close()
        fast.close()


# -- scripted clients: negotiation, garbage, vanishing -----------------------------------------


def drain(sock: socket.socket, quiet: float = 0.5) -> bytes:
    """What the server sends until it has been quiet for ``quiet`` s (or closed)."""
    data = b""
    sock.settimeout(quiet)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except TimeoutError:
        return data
    except ConnectionResetError:  # closed with our unread bytes in its buffer
        return data


def raw_client(port: int, bus: fx.BusLog) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    local = sock.getsockname()[1]
    bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
    return sock


def test_a_client_refusing_everything_gets_bounded_answers(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        sock = raw_client(port, bus)
        opening = drain(sock)
        answers = b""
        for i in range(0, len(opening) - 2):
            if opening[i] == C.IAC and opening[i + 1] in (C.DO, C.WILL):
                verb = C.WONT if opening[i + 1] == C.DO else C.DONT
                answers += bytes([C.IAC, verb, opening[i + 2]])
        assert answers, f"the server asked for nothing: {opening!r}"
        sock.sendall(answers * 3)
        assert drain(sock) == b"", "a refusal was answered: that is how loops start"
        sock.sendall(b"plain data")  # still a working session
        assert gateway.rfc2217["dev"].clients
        sock.close()


def test_the_same_option_a_thousand_times_is_answered_once(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        sock = raw_client(port, bus)
        drain(sock)
        sock.sendall(bytes([C.IAC, C.DO, C.ECHO]) * 1000 + bytes([C.IAC, C.WILL, C.COM_PORT_OPTION]) * 1000)
        answer = drain(sock)
        # RFC 1143: a refused DO is answered (WONT) each time, an option
        # already on never again; nothing else but the first modem state
        # once the option is on. One answer per request at most: no loop.
        first_modem_state = IAC + SB + bytes([C.COM_PORT_OPTION, C.NOTIFY_MODEMSTATE + C.SERVER_OFFSET, 0]) + IAC + SE
        assert answer == bytes([C.IAC, C.WONT, C.ECHO]) * 1000 + first_modem_state
        assert len(gateway.rfc2217["dev"].clients) == 1
        sock.close()


def test_an_endless_subnegotiation_closes_the_session_at_the_limit(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        sock = raw_client(port, bus)
        local = sock.getsockname()[1]
        drain(sock)
        try:
            sock.sendall(IAC + SB + bytes([C.COM_PORT_OPTION]) + b"x" * 100_000)
        except OSError:
            pass  # closed while we were still sending: fine
        gone = bus.wait("client_disconnected", lambda d, peer, reason, n: peer[1] == local)
        assert gone[0][2] == "protocol error"
        assert drain(sock, TIMEOUT) == b""  # closed by the server, nothing after
        assert gateway.rfc2217["dev"].protocol_errors == 1
        sock.close()
        with client(port) as remote:  # the listener is fine
            assert remote.is_open


def test_garbage_and_a_client_vanishing_mid_negotiation_leave_the_gateway_working(
        tmp_path: Path, pair: SocatPair, peer: int) -> None:
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        # Vanishes after WILL COM-PORT-OPTION and half a SET-BAUDRATE.
        sock = raw_client(port, bus)
        local = sock.getsockname()[1]
        sock.sendall(bytes([C.IAC, C.WILL, C.COM_PORT_OPTION]) + IAC + SB + bytes([C.COM_PORT_OPTION, 1, 0]))
        sock.close()
        bus.wait("client_disconnected", lambda d, peer_, reason, n: peer_[1] == local)
        # Garbage: random bytes, stray SE, unknown commands, COM-PORT-OPTION
        # subnegotiations of the wrong length or before the option was agreed.
        sock = raw_client(port, bus)
        noise = (os.urandom(4096).replace(IAC + SB, b"") + IAC + SE + bytes([C.IAC, C.NOP, C.IAC, C.AYT])
                 + IAC + SB + bytes([C.COM_PORT_OPTION, 1, 2]) + IAC + SE
                 + IAC + SB + bytes([C.COM_PORT_OPTION, 99, 1]) + IAC + SE)
        sock.sendall(noise)
        sock.close()
        with client(port) as remote:
            remote.write(b"<ok>")
            seen = b""
            while not seen.endswith(b"<ok>"):  # the garbage's data bytes reach the device first
                seen += read_fd(peer, 1)
            write_fd(peer, b"back")
            assert read_serial(remote, 4) == b"back"
        assert gateway.links["dev"].online


# -- what pyserial never sends: request forms, masks, signature, flow control ------------------


def sb(*payload: int) -> bytes:
    """IAC SB COM-PORT-OPTION payload IAC SE, with IAC doubled in the payload (RFC 855)."""
    return IAC + SB + bytes([C.COM_PORT_OPTION, *payload]).replace(IAC, IAC + IAC) + IAC + SE


def answer(*payload: int) -> bytes:
    """The server's answer: the client's code + 100, then the value."""
    return sb(payload[0] + C.SERVER_OFFSET, *payload[1:])


def expect(sock: socket.socket, wanted: bytes, *also: bytes) -> None:
    """Read until ``wanted`` and each of ``also`` came (answers the server
    gives by itself may come before those the port gives, in one read)."""
    got = b""
    sock.settimeout(TIMEOUT)
    while not all(w in got for w in (wanted, *also)):
        chunk = sock.recv(4096)
        assert chunk, f"closed; got {got!r}, waiting for {(wanted, *also)!r}"
        got += chunk


def agreed_client(port: int, bus: fx.BusLog) -> socket.socket:
    sock = raw_client(port, bus)
    sock.sendall(bytes([C.IAC, C.WILL, C.COM_PORT_OPTION, C.IAC, C.DO, C.COM_PORT_OPTION]))
    expect(sock, answer(C.NOTIFY_MODEMSTATE, 0))  # the first modem state: the option is on
    return sock


def test_request_forms_masks_and_signature(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair) as (_gateway, bus, port):
        sock = agreed_client(port, bus)
        sock.sendall(sb(C.SET_CONTROL, C.CONTROL_DTR_OFF) + sb(C.SET_CONTROL, C.CONTROL_REQUEST_DTR))
        expect(sock, answer(C.SET_CONTROL, C.CONTROL_DTR_OFF) + answer(C.SET_CONTROL, C.CONTROL_DTR_OFF))
        sock.sendall(sb(C.SET_CONTROL, C.CONTROL_REQUEST_RTS) + sb(C.SET_CONTROL, C.CONTROL_REQUEST_BREAK)
                     + sb(C.SET_CONTROL, C.CONTROL_REQUEST_FLOW) + sb(C.SET_CONTROL, C.CONTROL_REQUEST_FLOW_IN))
        expect(sock, answer(C.SET_CONTROL, C.CONTROL_RTS_ON) + answer(C.SET_CONTROL, C.CONTROL_BREAK_OFF)
               + answer(C.SET_CONTROL, C.CONTROL_FLOW_NONE) + answer(C.SET_CONTROL, C.CONTROL_FLOW_IN_NONE))
        sock.sendall(sb(C.SET_BAUDRATE, 0, 0, 0, 0) + sb(C.SET_DATASIZE, 0) + sb(C.SET_PARITY, 0)
                     + sb(C.SET_STOPSIZE, 0))  # 0: "what is it now?"
        expect(sock, answer(C.SET_BAUDRATE, 0, 1, 0xC2, 0) + answer(C.SET_DATASIZE, 8)
               + answer(C.SET_PARITY, C.PARITY_NONE) + answer(C.SET_STOPSIZE, C.STOPSIZE_1))
        sock.sendall(sb(C.SET_LINESTATE_MASK, 0xFF) + sb(C.NOTIFY_LINESTATE) + sb(C.SIGNATURE))
        expect(sock, answer(C.SET_LINESTATE_MASK, 0xFF), answer(C.NOTIFY_LINESTATE, 0),
               answer(C.SIGNATURE, *b"circuits-gateway dev"))
        sock.sendall(sb(C.PURGE_DATA, 9) + sb(C.SET_PARITY, 77))  # codes that do not exist
        expect(sock, answer(C.PURGE_DATA, 0) + answer(C.SET_PARITY, C.PARITY_NONE))
        sock.close()


def test_on_a_pty_modem_and_line_state_are_answered_honestly_and_never_polled(
        tmp_path: Path, pair: SocatPair, peer: int) -> None:
    # A pty has no modem lines (TIOCMGET fails) and no UART counters
    # (TIOCGICOUNT fails): a client asking for both gets 0 answers, the
    # session stays up, and no 100 ms poll timer is armed for nothing.
    # The TIOCMGET/TIOCGICOUNT poll itself needs a real UART: not tested here.
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        fd = gateway.links["dev"].serial.device.fileno()
        assert modem_lines(fd) is None and LineErrors().poll(fd) is None
        sock = agreed_client(port, bus)
        sock.sendall(sb(C.SET_MODEMSTATE_MASK, 0xFF) + sb(C.SET_LINESTATE_MASK, 0xFF)
                     + sb(C.NOTIFY_MODEMSTATE) + sb(C.NOTIFY_LINESTATE))
        expect(sock, answer(C.SET_MODEMSTATE_MASK, 0xFF), answer(C.SET_LINESTATE_MASK, 0xFF),
               answer(C.NOTIFY_MODEMSTATE, 0), answer(C.NOTIFY_LINESTATE, 0))
        remote = gateway.rfc2217["dev"]
        assert remote.control.pollable is False and remote._poll is None
        assert all(s.telnet.wants_modemstate and s.telnet.wants_linestate for s in remote.sessions.values())
        sock.sendall(b"still up")
        assert read_fd(peer, 8) == b"still up"
        sock.close()
    # The mapping a real UART's lines would take (CD, RI, DSR, CTS -> RFC 2217 bits).
    assert modem_state(None) == 0
    assert modem_state(termios.TIOCM_CAR | termios.TIOCM_CTS) == C.MODEM_CD | C.MODEM_CTS
    assert modem_state(termios.TIOCM_RNG | termios.TIOCM_DSR) == C.MODEM_RI | C.MODEM_DSR


def test_flowcontrol_suspend_holds_our_output_until_resume(tmp_path: Path, pair: SocatPair, peer: int) -> None:
    with gateway_on(tmp_path, pair) as (gateway, bus, port):
        sock = agreed_client(port, bus)
        sock.sendall(sb(C.FLOWCONTROL_SUSPEND))
        until(lambda: any(s.held is not None for s in gateway.rfc2217["dev"].sessions.values()), "the suspend")
        write_fd(peer, b"held\xff")
        # Written by the device, held by the gateway: the parser saw it, the client not yet.
        until(lambda: gateway.links["dev"].bytes_in == 5, "the device bytes")
        assert drain(sock, 0.3) == b""
        sock.sendall(sb(C.FLOWCONTROL_RESUME))
        expect(sock, b"held\xff\xff")
        sock.close()


def test_api_and_metrics_show_the_rfc2217_clients_and_settings(tmp_path: Path, pair: SocatPair) -> None:
    web = free_port(0)
    with gateway_on(tmp_path, pair, web=web) as (_gateway, _bus, port), client(port, baudrate=9600) as remote:
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/devices", timeout=TIMEOUT) as response:
            device = json.load(response)["devices"][0]
        local = remote._socket.getsockname()
        assert device["rfc2217"]["clients"] == [f"{local[0]}:{local[1]}"]
        assert device["rfc2217"]["settings"]["baudrate"] == 9600
        assert device["rfc2217"]["policy"] == "allow"
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/metrics", timeout=TIMEOUT) as response:
            metrics = response.read().decode()
        assert 'gateway_rfc2217_clients{device="dev"} 1' in metrics
        assert 'gateway_rfc2217_settings_changes_total{device="dev"} 1' in metrics


def test_unplug_and_replug_keep_the_client_and_its_settings(tmp_path: Path, pair: SocatPair) -> None:
    with gateway_on(tmp_path, pair) as (gateway, bus, port), client(port, baudrate=9600) as remote:
        pair.unplug()
        bus.wait("device_status", lambda d, status, detail: status == "offline")
        with pytest.raises((serial.SerialException, ValueError), match="rejected"):
            remote.baudrate = 19200  # offline: answered with the setting we keep for the port
        pair.replug()
        bus.wait("device_status", lambda d, status, detail: status == "online", count=2)
        assert kernel(gateway)[5] == termios.B9600, "the client's setting was not put back on the new port"
        fd = pair.open_peer()
        try:
            write_fd(fd, b"back again")
            assert read_serial(remote, 10) == b"back again"
        finally:
            os.close(fd)


def test_an_ipv6_listener(tmp_path: Path, pair: SocatPair, peer: int) -> None:
    port = free_port(0)
    with gateway_on(tmp_path, pair, rfc2217=f"[::1]:{port}") as (_gateway, _bus, _port):
        with serial.serial_for_url(f"rfc2217://[::1]:{port}", baudrate=115200, timeout=TIMEOUT) as remote:
            remote.write(b"over v6")
            assert read_fd(peer, 7) == b"over v6"
