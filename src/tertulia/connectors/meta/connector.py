"""Facebook Pages and Instagram behind the connector interface: the two names the registry uses.

Both talk to Meta's Graph API with a Page token (client.py), share reading, Messenger-style direct
messages, webhooks and Facebook Login (common.py), and differ in publishing and comments
(facebook.py, instagram.py). See docs/connectors/facebook-instagram.md.
"""

from __future__ import annotations

from tertulia.connectors.meta.facebook import FacebookPageConnector
from tertulia.connectors.meta.instagram import InstagramConnector

__all__ = ["FacebookPageConnector", "InstagramConnector"]
