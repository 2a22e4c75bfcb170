"""Write on the sandbox network as one of its people: a post (mentioning the brand) or a DM.

For trying the inbox by hand and for the browser tests, which feed it hostile text:

    echo '<script>alert(1)</script> @despensadelsur' | tertulia manage sandbox_post --as troll
    tertulia manage sandbox_post --as ana --dm despensadelsur --text "¿Abrís mañana?"

The text is taken verbatim from --text or from standard input (UTF-8), and goes through the
network's own checks, so what is refused here is refused for every sandbox client.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tertulia.connectors.base import ConnectorError
from tertulia.connectors.sandbox import hooks, network


class Command(BaseCommand):
    help = "Post (or send a direct message) on the sandbox network as one of its accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as", dest="author", required=True, help="The author's handle (created if new)."
        )
        parser.add_argument("--text", help="The text; read from standard input when missing.")
        parser.add_argument("--dm", metavar="HANDLE", help="Send a direct message to this account instead.")
        parser.add_argument("--reply-to", type=int, help="The id of the post this one answers.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["text"] if options["text"] is not None else sys.stdin.buffer.read().decode("utf-8")
        try:
            author = network.create_account(options["author"])
            if options["dm"]:
                recipient = network.get_account(options["dm"])
                message = network.send_dm(author, recipient, text)
                hooks.notify_inbox([recipient.handle])
                self.stdout.write(f"message {message.pk}")
                return
            parent = network.get_post(options["reply_to"]) if options["reply_to"] else None
            created = network.post(author, text, in_reply_to=parent)
        except (ConnectorError, UnicodeDecodeError) as error:
            raise CommandError(str(error)) from error
        touched = [m.account.handle for m in created.mentions.select_related("account")]
        if parent is not None:
            touched.append(parent.author.handle)
        hooks.notify_inbox(touched)
        self.stdout.write(f"post {created.pk}")
