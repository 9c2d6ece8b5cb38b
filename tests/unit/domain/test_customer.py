import pytest

from domain.customer import CustomerContact
from domain.errors import InvalidCustomer


class TestIpAddress:
    @pytest.mark.parametrize(("given", "kept"), [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client seen through IPv6
    ])
    def test_an_address_is_kept_in_one_spelling(self, given: str, kept: str) -> None:
        assert CustomerContact.of(ip=given).ip == kept

    @pytest.mark.parametrize("given", [
        "999.1.1.1", "1.2.3", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4", "localhost",
        "203.0.113.0/24", "", "fe80::1%eth0x", "1.2.3.4\n",
    ])
    def test_anything_else_is_refused_with_validation_error(self, given: str) -> None:
        with pytest.raises(InvalidCustomer, match="ip") as error:
            CustomerContact.of(ip=given)
        assert error.value.code == "validation_error"


class TestEmail:
    @pytest.mark.parametrize("given", [
        "a@example.com", "First.Last+tag@Sub.Example.co.uk", "o'neil@example.org",
        "用户@例子.公司",
    ])
    def test_an_address_with_a_local_part_and_a_domain_is_kept_as_given(
        self, given: str
    ) -> None:
        assert CustomerContact.of(email=given).email == given

    @pytest.mark.parametrize("given", [
        "nope", "@example.com", "a@", "a@b@example.com", "a b@example.com",
        "a@example", "a@.com", "a@example.", "", "a@exa mple.com", "a@example.com\n",
    ])
    def test_anything_else_is_refused_with_validation_error(self, given: str) -> None:
        with pytest.raises(InvalidCustomer, match="email") as error:
            CustomerContact.of(email=given)
        assert error.value.code == "validation_error"


def test_nothing_given_is_nothing_known() -> None:
    assert CustomerContact.of() == CustomerContact(email=None, ip=None)
