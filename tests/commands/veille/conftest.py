"""The fixtures of the digests tests, for the veille's: ``local_server`` (a live server on
127.0.0.1) and the ``loopback_only`` fence (autouse: a connection outside loopback fails the test).
"""

from tests.digests.conftest import local_server, loopback_only

__all__ = ["local_server", "loopback_only"]
