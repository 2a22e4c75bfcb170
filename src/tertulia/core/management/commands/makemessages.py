"""`makemessages` that also extracts `_lazy(...)`.

Modules that need both the immediate and the lazy gettext import the lazy one as `_lazy`
(`from django.utils.translation import gettext_lazy as _lazy`); xgettext only knows the
standard names, so without this their strings never reached the catalogue.
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
