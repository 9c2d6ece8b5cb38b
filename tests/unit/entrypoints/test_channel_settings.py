"""PAYGATE_DEFAULT_ROUTE and PAYGATE_CHANNEL_URLS: the channels a deployment has, checked
when the process starts."""

from __future__ import annotations

import pytest

from adapters.channel.remote import RemoteChannelClient
from adapters.resilience import Breakers
from entrypoints.settings import ConfigurationError, Settings
from entrypoints.wiring import default_route, make_channels, named_channel_urls

CHANNELS = {"sandbox": object(), "backup": object()}


def test_the_default_route_is_the_sandbox() -> None:
    assert Settings().default_route == "sandbox"
    assert default_route(Settings(), CHANNELS) == ("sandbox",)


def test_the_default_route_is_read_in_order_from_the_environment() -> None:
    settings = Settings.from_env({"PAYGATE_DEFAULT_ROUTE": " backup, sandbox "})
    assert default_route(settings, CHANNELS) == ("backup", "sandbox")


@pytest.mark.parametrize(("route", "says"), [
    ("adyen", "unknown channel 'adyen'"),
    ("sandbox,sandbox", "listed twice"),
    (",", "at least one channel"),
])
def test_a_default_route_the_deployment_cannot_use_stops_the_process(
    route: str, says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says) as error:
        default_route(Settings(default_route=route), CHANNELS)
    assert "PAYGATE_DEFAULT_ROUTE" in str(error.value)


async def test_channel_urls_name_more_remote_channels() -> None:
    settings = Settings(channel_urls="backup=http://10.0.0.7:8002, eu_2=http://10.0.0.8:8002")
    assert named_channel_urls(settings) == {"backup": "http://10.0.0.7:8002",
                                            "eu_2": "http://10.0.0.8:8002"}
    resources: list[object] = []
    channels = make_channels(settings, Breakers(), resources)
    assert set(channels) == {"sandbox", "backup", "eu_2"}
    assert isinstance(channels["backup"], RemoteChannelClient)
    assert channels["backup"].name == "backup"
    assert len(resources) == 3
    for channel in (channels["backup"], channels["eu_2"]):
        assert isinstance(channel, RemoteChannelClient)
        await channel.aclose()


@pytest.mark.parametrize("urls", ["backup", "=http://x", "back up=http://x",
                                  "sandbox=http://x"])
def test_bad_channel_urls_stop_the_process(urls: str) -> None:
    with pytest.raises(ConfigurationError, match="PAYGATE_CHANNEL_URLS"):
        make_channels(Settings(channel_urls=urls), Breakers(), [])
