from __future__ import annotations

from pathlib import Path

from django.conf import settings


def test_the_suite_never_touches_the_persons_own_data_directory():
    assert Path(settings.CONFIG.data_dir) != Path.home() / ".local" / "share" / "tertulia"
    assert settings.HUEY["immediate"] is True
