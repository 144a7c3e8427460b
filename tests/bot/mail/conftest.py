from tests.support.smtp import smtp_server

__all__ = ["smtp_server"]
