"""``glob_matcher`` keeps exactly the paths a real ``/bin/sh`` expands from the same patterns.

The host's facts share one archive of files (``FactType.files``); each fact keeps the paths of the
archive its own patterns match. Were the matcher wider than the shell, a fact would read another
fact's file as its own configuration (logrotate reading an rsyslog file); narrower, it would miss one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from auditor.facts.base import glob_matcher, shell_glob

NAME_CHARS = "ab.*? -[]\\'\n"  # glob characters, quotes and a newline are names too
plain_names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=4)
names = st.one_of(plain_names, plain_names.map(lambda n: "." + n)).filter(lambda n: n not in (".", ".."))


def a_pattern_part(name: str) -> st.SearchStrategy[str]:
    """From a name of the tree: itself, or with characters turned into ``*`` or ``?`` (a leading dot too)."""
    turned = st.lists(st.sampled_from(["keep", "*", "?"]), min_size=len(name), max_size=len(name)).map(
        lambda how: "".join(c if h == "keep" else h for c, h in zip(name, how, strict=True))
    )
    parts = st.one_of(st.just(name), turned, st.just("*"), st.just("?" + name[1:]))
    return parts.filter(lambda n: n not in (".", ".."))


def shell_expansion(patterns: list[str]) -> set[str]:
    """The regular files /bin/sh finds for ``patterns``, quoted by shell_glob, as the batch does."""
    loop = f'for f in {" ".join(shell_glob(p) for p in patterns)}; do [ -f "$f" ] && printf "%s\\0" "$f"; done; :'
    out = subprocess.run(["/bin/sh", "-c", loop], capture_output=True, check=True).stdout
    return {p.decode() for p in out.split(b"\0") if p}


def regular_files(root: Path) -> set[str]:
    return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if os.path.isfile(os.path.join(d, f))}


@settings(
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: the assertion names the case
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tree=st.lists(st.lists(names, min_size=1, max_size=3), min_size=1, max_size=12), data=st.data())
def test_matches_exactly_what_the_shell_expands(tmp_path_factory, tree, data):
    root = tmp_path_factory.mktemp("tree")
    for parts in tree:
        path = root.joinpath(*parts)
        if any(p.is_file() for p in [*path.parents, path] if p != root and root in p.parents):
            continue  # a file already stands where a directory would go
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_dir():
            path.write_text("x")
    patterns = [[data.draw(a_pattern_part(name)) for name in data.draw(st.sampled_from(tree))] for _ in range(3)]
    absolute = [str(root) + "/" + "/".join(parts) for parts in patterns]
    expanded = shell_expansion(absolute)
    mine = glob_matcher(tuple(absolute))
    for path in expanded | regular_files(root):
        assert bool(mine(path)) == (path in expanded), (absolute, path)


def test_the_catalogs_patterns_on_a_configuration_tree(tmp_path):
    """Dot files, neighbours with a common prefix, and a sub-directory's files stay out."""
    etc = tmp_path / "etc"
    for rel in ["rsyslog.conf", "rsyslog.d/50-default.conf", "rsyslog.d/.hidden", "rsyslog.d/sub/x.conf",
                "rsyslog.conf.bak", "logrotate.d/rsyslog", "ssh/sshd_config", "ssh/sshd_config.d/a.conf"]:  # fmt: skip
        (etc / rel).parent.mkdir(parents=True, exist_ok=True)
        (etc / rel).write_text("x")
    patterns = [f"{etc}/rsyslog.conf", f"{etc}/rsyslog.d/*", f"{etc}/ssh/sshd_config.d/*"]
    mine = glob_matcher(tuple(patterns))
    assert sorted(p for p in regular_files(tmp_path) if mine(p)) == sorted(shell_expansion(patterns)) == [
        f"{etc}/rsyslog.conf", f"{etc}/rsyslog.d/50-default.conf", f"{etc}/ssh/sshd_config.d/a.conf"]  # fmt: skip
