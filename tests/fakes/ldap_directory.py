"""A real OpenLDAP directory (Debian's ``slapd``) on loopback for the LDAP sign-in tests: its own configuration and
database in a temporary folder, a read-only service account, people with passwords and mail, and groups whose
members get ``memberOf`` (the memberof overlay, as Active Directory and most directories offer it).

``scripts/test.sh`` installs ``slapd`` like Chromium; without it the tests that need the directory are skipped.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import Connection, Server

SUFFIX = "dc=example,dc=org"
ROOT_DN, ROOT_PASSWORD = f"cn=root,{SUFFIX}", "root-secret"
APP_DN, APP_PASSWORD = f"cn=reader,{SUFFIX}", "reader-secret"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
PASSWORDS = {"ada": "ada-secret", "grace": "grace-secret", "nomail": "nomail-secret"}

_CONFIG = """
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {folder}/slapd.pid
database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {folder}/db
overlay memberof
access to attrs=userPassword by anonymous auth by self read by * none
access to * by dn.exact="{app_dn}" read by self read by * none
"""


@dataclass(frozen=True)
class Directory:
    host: str
    port: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _seed(port: int) -> None:
    conn = Connection(Server("127.0.0.1", port=port), ROOT_DN, ROOT_PASSWORD, auto_bind=True)
    conn.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
    conn.add(APP_DN, ["organizationalRole", "simpleSecurityObject"], {"userPassword": APP_PASSWORD})
    conn.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
    conn.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
    people = {"ada": ("Ada Lovelace", "Ada@Example.org"), "grace": ("Grace Hopper", "grace@example.org"),
              "nomail": ("No Mail", None)}
    for uid, (name, mail) in people.items():
        attributes = {"uid": uid, "cn": name, "sn": name.split()[-1], "userPassword": PASSWORDS[uid]}
        if mail:
            attributes["mail"] = mail
        conn.add(f"uid={uid},{PEOPLE}", ["inetOrgPerson"], attributes)
    for group, members in {"engineering": ["ada"], "research": ["ada", "grace"]}.items():
        conn.add(f"cn={group},{GROUPS}", ["groupOfNames"],
                 {"cn": group, "member": [f"uid={uid},{PEOPLE}" for uid in members]})
    assert conn.result["description"] == "success", conn.result
    conn.unbind()


@pytest.fixture(scope="session")
def ldap_directory() -> Iterator[Directory]:
    slapd = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)
    if slapd is None:
        pytest.skip("slapd is not installed (scripts/test.sh installs it as root: apt-get install slapd)")
    folder = Path(tempfile.mkdtemp(prefix="switchyard-ldap-"))
    (folder / "db").mkdir()
    (folder / "slapd.conf").write_text(_CONFIG.format(folder=folder, suffix=SUFFIX, root_dn=ROOT_DN,
                                                      root_password=ROOT_PASSWORD, app_dn=APP_DN))
    port = _free_port()
    process = subprocess.Popen([slapd, "-d", "0", "-f", str(folder / "slapd.conf"), "-h", f"ldap://127.0.0.1:{port}/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"slapd did not start: {process.stderr.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.05)
        _seed(port)
        yield Directory("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
