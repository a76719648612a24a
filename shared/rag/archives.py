"""Archive-based documents (DOCX today; XLSX, PPTX and EPUB are zip files too) checked before any parser
opens them: a few kilobytes can declare gigabytes. Python's ``zipfile`` never inflates an entry past the
size its header declares, so checking the declared sizes bounds what a parser can be made to read."""
from __future__ import annotations

import zipfile
from typing import BinaryIO

from shared.config import get_settings

RATIO_CHECKED_FROM = 1024 * 1024
"""Entries smaller than this may compress as well as they like (a blank page's XML does)."""


class ArchiveBomb(ValueError):
    """An archive that would inflate beyond the limits: the file fails with this reason, no retry."""


def check_archive(stream: BinaryIO, kind: str) -> None:
    """Refuse ``stream`` (a zip) when it holds too many entries, inflates beyond
    ``ARCHIVE_MAX_UNCOMPRESSED_BYTES`` in all, or an entry inflates more than ``ARCHIVE_MAX_COMPRESSION_RATIO``
    times; leaves the stream at its start for the parser."""
    settings = get_settings()
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"The {kind} document could not be read: {exc}") from None
    finally:
        stream.seek(0)
    if len(entries) > settings.archive_max_entries:
        raise ArchiveBomb(f"The {kind} document holds {len(entries)} parts; at most "
                          f"{settings.archive_max_entries} are read (ARCHIVE_MAX_ENTRIES).")
    total = 0
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size >= RATIO_CHECKED_FROM and ratio > settings.archive_max_compression_ratio:
            raise ArchiveBomb(f"The {kind} document looks like a zip bomb: its part {entry.filename!r} inflates "
                              f"{ratio:.0f} times (at most {settings.archive_max_compression_ratio}, "
                              "ARCHIVE_MAX_COMPRESSION_RATIO).")
        total += entry.file_size
        if total > settings.archive_max_uncompressed_bytes:
            raise ArchiveBomb(f"The {kind} document inflates beyond {settings.archive_max_uncompressed_bytes} "
                              "bytes (ARCHIVE_MAX_UNCOMPRESSED_BYTES).")
