"""A YouTube video's transcript through the ``youtube-transcript-api`` package, as Open WebUI's YouTube loader
reads it: the video's page, YouTube's player API (innertube) for the caption tracks, then the track's timed
text; the first of the wanted languages that has a track, a manually made track before a generated one.

The package talks to ``https://www.youtube.com`` only; it is given a requests session that sends those
addresses to ``base`` instead (a relay, or a fake in tests), with a timeout on every request. Only the video id
taken from the user's URL reaches YouTube: no user-given address is fetched.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import ParseError

import requests
from youtube_transcript_api import (
    AgeRestricted, CouldNotRetrieveTranscript, InvalidVideoId, IpBlocked, NoTranscriptFound, RequestBlocked,
    TranscriptsDisabled, VideoUnavailable, VideoUnplayable, YouTubeRequestFailed, YouTubeTranscriptApi,
)
from youtube_transcript_api.proxies import GenericProxyConfig

from shared.errors import BadRequest, UpstreamError

YOUTUBE = "https://www.youtube.com"
HOSTS = {"youtu.be", "m.youtube.com", "youtube.com", "www.youtube.com", "www.youtube-nocookie.com", "vid.plus"}
"""The hosts whose URLs name a video (Open WebUI's list)."""


def video_id(url: str) -> str | None:
    """The 11-character video id of a YouTube URL (``/watch?v=``, ``youtu.be/<id>``, ``/embed/<id>`` ...);
    None for any other URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in HOSTS:
        return None
    if parts.path.endswith("/watch"):
        found = parse_qs(parts.query).get("v") or [""]
        candidate = found[0]
    else:
        candidate = parts.path.strip("/").split("/")[-1]
    return candidate if len(candidate) == 11 else None


class _Rebased(requests.Session):
    """Sends what the package asks of ``https://www.youtube.com`` to ``base``, each request with a timeout."""

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__()
        self.base, self.timeout = base.rstrip("/"), timeout

    def request(self, method: str, url: str, *args, **kwargs) -> requests.Response:  # type: ignore[override]
        if url.startswith(YOUTUBE):
            url = self.base + url[len(YOUTUBE):]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def _refusal(error: Exception, video: str) -> str | None:
    """Open WebUI's words for a video that has no transcript to give; None for a failure worth retrying."""
    if isinstance(error, TranscriptsDisabled):
        return f"Transcripts are disabled for the YouTube video {video}."
    if isinstance(error, AgeRestricted):
        return f"The YouTube video {video} is age restricted, so its transcript cannot be retrieved."
    if isinstance(error, (VideoUnavailable, VideoUnplayable, InvalidVideoId)):
        return f"The YouTube video {video} is unavailable."
    return None


def transcript(video: str, languages: list[str], *, base: str = YOUTUBE, proxy_url: str = "",
               timeout: float = 30.0) -> str:
    """The transcript's text, its pieces joined by spaces. A video without one (disabled, unavailable, none
    in the languages) is a 400; YouTube refusing this server or failing is a 502, a timeout or a 5xx
    transient."""
    wanted = [*languages, *([] if "en" in languages else ["en"])]
    proxies = GenericProxyConfig(http_url=proxy_url, https_url=proxy_url) if proxy_url else None
    api = YouTubeTranscriptApi(proxy_config=proxies, http_client=_Rebased(base or YOUTUBE, timeout))
    try:
        tracks = api.list(video)
        for language in wanted:
            try:
                track = tracks.find_transcript([language])
            except NoTranscriptFound:
                continue
            if track.is_generated:
                try:
                    track = tracks.find_manually_created_transcript([language])
                except NoTranscriptFound:
                    pass
            text = " ".join(piece.text.strip(" ") for piece in track.fetch())
            if text.strip():
                return text
    except (IpBlocked, RequestBlocked) as error:
        raise UpstreamError(f"YouTube blocked the transcript request for {video} from this server.") from error
    except YouTubeRequestFailed as error:
        raise UpstreamError(f"YouTube failed to answer for {video}: {error.reason}",
                            transient=error.reason.startswith("5")) from error
    except ParseError as error:
        raise UpstreamError(f"YouTube's transcript for {video} could not be read.") from error
    except CouldNotRetrieveTranscript as error:
        refusal = _refusal(error, video)
        if refusal is None:
            raise UpstreamError(f"Could not retrieve a transcript for the YouTube video {video}.") from error
        raise BadRequest(refusal) from error
    except requests.Timeout as error:
        raise UpstreamError(f"YouTube did not answer in time for {video}.", 504, transient=True) from error
    except requests.RequestException as error:
        raise UpstreamError(f"YouTube could not be reached: {error}", transient=True) from error
    raise BadRequest(f"No transcript found for the YouTube video {video} in these languages: {', '.join(wanted)}.")
