"""The appliance configuration checker (make check-config): the shipped
configurations parse, and a bad line is named by file, line and column.
The parser's every error case is in tests/unit/test_appliance_config.c;
this checks the tool a user runs."""
import glob
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check_config(*paths):
    return subprocess.run(["make", "-s", "--no-print-directory", "check-config",
                           "CONFIG=" + " ".join(paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_shipped_configurations_parse():
    shipped = sorted(glob.glob(os.path.join(ROOT, "configs", "*.conf")))
    assert shipped, "no configs/*.conf"
    r = check_config(*shipped)
    assert r.returncode == 0, r.stdout + r.stderr
    for path in shipped:
        assert f"{path}: ok (" in r.stdout


def test_bad_line_named_by_file_line_and_column(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("interface lan {\n\tdevice any\n\taddress 10.0.0.1/24\n}\n"
                    "route default via 10.0.0.254\n")
    bad = tmp_path / "bad.conf"
    bad.write_text("interface lan {\n\tdevice any\n\taddress 10.0.0.1/24\n}\n"
                   "route 10.9.0.0/16 via 10.0.0.254 dev lam\n")
    r = check_config(str(good), str(bad))
    assert r.returncode != 0
    assert f"{good}: ok (1 interface, 1 route, 0 services)" in r.stdout
    assert (f"{bad}:5:38: unknown interface 'lam' "
            "(declare it above with 'interface lam { ... }')") in r.stdout


def test_unreadable_file(tmp_path):
    r = check_config(str(tmp_path / "missing.conf"))
    assert r.returncode != 0
    assert "missing.conf: No such file or directory" in r.stderr
