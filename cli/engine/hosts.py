"""Where load may go: an address that is loopback, or that the suite's `allowed_hosts` lists.

An `allowed_hosts` entry is a host name (its addresses are then allowed, as resolved when the run
starts), an address, or a network (`10.0.0.0/8`). A name is resolved like any other, `localhost`
and `*.localhost` included, and every address it resolves to must be allowed. The generator then
connects only to those resolved addresses (pinned), so a name that resolves elsewhere later,
or a request to another host, cannot take the load anywhere else.

Pure code: the CLI checks a URL with it and the generator processes guard every lookup with it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

Pins = dict[str, tuple[str, ...]]  # host name (lower case) -> the addresses it resolved to


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _entries(allowed_hosts: Iterable[str]) -> tuple[set[str], list[Network]]:
    names: set[str] = set()
    networks: list[Network] = []
    for entry in allowed_hosts:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return names, networks


def address_allowed(address: str, allowed_hosts: Iterable[str] = ()) -> bool:
    """Loopback, or inside an address or network that `allowed_hosts` lists."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.is_loopback:
        return True
    return any(ip in network for network in _entries(allowed_hosts)[1])


def resolve(host: str, port: int | None = None) -> tuple[str, ...]:
    """Every address `host` resolves to (in resolver order, without repeats)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(host: str, addresses: Iterable[str], allowed_hosts: Iterable[str] = ()) -> str:
    """Why load may not go to `host` at `addresses` ('' when it may)."""
    name = host.lower().rstrip(".")
    if name in _entries(allowed_hosts)[0]:
        return ""
    outside = [a for a in addresses if not address_allowed(a, allowed_hosts)]
    if not outside:
        return ""
    return (
        f"{host} resolves to {', '.join(outside)}: not loopback and not in the suite's "
        "allowed_hosts; perfenv only sends load where it is told it may"
    )


def guarded(
    lookup: Callable[..., list[Any]], pins: Pins, allowed_hosts: Iterable[str]
) -> Callable[..., list[Any]]:
    """`lookup` (a getaddrinfo) that resolves pinned names to their addresses only and refuses
    any other name with an address that may not take load (socket.gaierror)."""
    allowed = tuple(allowed_hosts)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host is None:  # a passive (bind) lookup, not a destination
            return lookup(host, port, *args, **kwargs)
        name = (host.decode() if isinstance(host, bytes) else str(host)).lower().rstrip(".")
        if name in pins:
            return [info for a in pins[name] for info in lookup(a, port, *args, **kwargs)]
        infos = lookup(host, port, *args, **kwargs)
        why = refusal(name, [str(info[4][0]) for info in infos], allowed)
        if why:
            raise socket.gaierror(socket.EAI_NONAME, f"perfenv: {why}")
        return infos

    return getaddrinfo
