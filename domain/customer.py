"""What a payment says about its customer, checked before anything relies on it.

The risk rules look the IP address up in blocked networks and count payments per IP and
per e-mail domain. A value that is not an address would slip past the first and split
the second, and one client spelt two ways ("203.0.113.7" and "::ffff:203.0.113.7") would
count as two. So an IP address must be one and is kept in a single spelling, and an
e-mail address must have a local part and a domain with a dot in it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from domain.errors import InvalidCustomer

_NOT_IN_ADDRESS = r"@\s\x00-\x1f\x7f"
_EMAIL = re.compile(  # local@label.label..., no empty label, no space, no control character
    rf"[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}.]+(?:\.[^{_NOT_IN_ADDRESS}.]+)+")


@dataclass(frozen=True, slots=True)
class CustomerContact:
    email: str | None = None
    ip: str | None = None

    @classmethod
    def of(cls, *, email: str | None = None, ip: str | None = None) -> CustomerContact:
        """The contact, checked: `InvalidCustomer` names the field that is not an address."""
        return cls(email=None if email is None else _email(email),
                   ip=None if ip is None else _ip(ip))


def _email(text: str) -> str:
    if not _EMAIL.fullmatch(text):
        raise InvalidCustomer(f"customer email must look like name@example.com, got {text!r}")
    return text


def _ip(text: str) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or "%" in text:  # a scope (fe80::1%eth0) is never a client's
        raise InvalidCustomer(f"customer ip must be an IPv4 or IPv6 address, got {text!r}")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)
