# The judge's unittest collector, loaded by the harness through PYTHONPATH from outside the
# judged tree. It wraps unittest's result methods so every finished test is appended as one
# JSON line to the file named by CTO_HARNESS_JUDGE_RESULTS, each line authenticated with a
# key the harness left beside that file: the first collector to start reads the key and
# deletes it, before any test (or code under test) loads. It also reports when any class or
# function of unittest was replaced while the tests ran.
#
# pytest too: an import hook wraps pytest's plugin manager (before pytest, or any test, has
# loaded anything) so that a plugin object of this closure records every test phase
# (setup/call/teardown) as the same authenticated records, and the runner's, the reports'
# and pluggy's classes and functions are watched from the session's start to its end.
#
# A passing test counts only when its method's (or function's) code comes from its own test file.
#
# Everything lives inside _install(): this module keeps no state the code under test could
# reach through sys.modules["sitecustomize"]. (Code in the same process can still dig the
# closure out with gc; docs/judging.md says so.)


def _install():
    import os, sys

    path = os.environ.pop("CTO_HARNESS_JUDGE_RESULTS", None)
    if not path:
        return
    import builtins, hashlib, hmac, json
    import unittest.case, unittest.loader, unittest.main, unittest.result, unittest.runner, unittest.suite, unittest.util

    key_file = os.path.join(os.path.dirname(path), "key")
    try:
        with open(key_file, "rb") as fh:
            key = fh.read()
        os.unlink(key_file)
    except OSError:
        key = None  # a later Python process of the same test command: its records do not count
    out = open(path, "a", buffering=1, encoding="utf-8")
    modules = (unittest.case, unittest.loader, unittest.main, unittest.result, unittest.runner, unittest.suite, unittest.util)
    result_cls = unittest.result.TestResult

    def record(rec):
        body = "\0".join(str(rec.get(k)) for k in ("kind", "file", "name", "outcome", "what"))
        rec["auth"] = hmac.new(key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest() if key else None
        out.write(json.dumps(rec) + "\n")

    def defined_in_its_file(test, file):
        # A passing test counts only when its method was compiled from its own test file: a
        # method swapped in from the code under test, or a stand-in object, was not.
        try:
            code = getattr(type(test), test._testMethodName).__code__
            return file is not None and os.path.realpath(code.co_filename) == os.path.realpath(file)
        except Exception:
            return False

    def emit(test, outcome):
        try:
            name = test.id()
            file = getattr(sys.modules.get(type(test).__module__), "__file__", None)
        except Exception:
            name, file = repr(test), None
        if outcome == "pass" and not defined_in_its_file(test, file):
            record({"kind": "tamper", "what": "a passing test %s whose method is not the one in its test file" % name})
            outcome = "fail"
        record({"kind": "test", "file": file, "name": name, "outcome": outcome})
        check()

    def wrap(method, outcome):
        original = getattr(result_cls, method)

        def wrapper(self, test, *args, **kwargs):
            emit(test, outcome)
            return original(self, test, *args, **kwargs)

        wrapper.__name__ = method
        setattr(result_cls, method, wrapper)

    for method, outcome in (("addSuccess", "pass"), ("addFailure", "fail"), ("addError", "fail"), ("addSkip", "skip"),
                            ("addExpectedFailure", "pass"), ("addUnexpectedSuccess", "fail")):
        wrap(method, outcome)
    original_sub = result_cls.addSubTest

    def add_sub_test(self, test, subtest, err):
        if err is not None:
            emit(test, "fail")
        return original_sub(self, test, subtest, err)

    result_cls.addSubTest = add_sub_test

    # Every class attribute and module-level callable of unittest, as it is now (wrappers
    # included): any later replacement is tampering, whichever attribute it is.
    watched = {}
    for name, value in list(vars(builtins).items()):
        if callable(value):
            watched[(builtins, name)] = value
    for mod in modules:
        for name, value in list(vars(mod).items()):
            if isinstance(value, type) and value.__module__.startswith("unittest"):
                for attr, member in list(vars(value).items()):
                    watched[(value, attr)] = member
            elif callable(value):
                watched[(mod, name)] = value
    reported = set()

    def check():
        for (owner, attr), value in watched.items():
            if vars(owner).get(attr, check) is not value and (owner, attr) not in reported:
                reported.add((owner, attr))
                record({"kind": "tamper", "what": "%s.%s was replaced while the tests ran" % (getattr(owner, "__name__", owner), attr)})

    # pytest: when pytest's configuration module is imported (before any test or code under
    # test), its plugin manager class is wrapped so the first manager made gets our plugin,
    # an object of this closure. It records every test's phases as authenticated records.
    pytest_state = {"pm": None, "plugin": None, "is_registered": None}
    pytest_keys = []
    PYTEST_WATCHED = ("_pytest.runner", "_pytest.reports", "_pytest.python", "_pytest.main", "_pytest.unittest",
                      "_pytest.skipping", "_pytest.outcomes", "_pytest.nodes", "pluggy._hooks", "pluggy._manager", "pluggy._callers")

    def watch_pytest():
        # The runner's, the reports' and pluggy's classes and functions, as they are when the session
        # starts (every plugin loaded, no test module imported yet).
        for mod_name in PYTEST_WATCHED:
            mod = sys.modules.get(mod_name)
            if mod is None:
                continue
            for name, value in list(vars(mod).items()):
                if isinstance(value, type) and value.__module__ == mod_name:
                    for attr, member in list(vars(value).items()):
                        if (value, attr) not in watched:
                            watched[(value, attr)] = member
                            pytest_keys.append((value, attr))
                elif callable(value) and getattr(value, "__module__", None) == mod_name and (mod, name) not in watched:
                    watched[(mod, name)] = value
                    pytest_keys.append((mod, name))

    def pytest_defined_in_its_file(item, file):
        # A passing test counts only when its function was compiled from its own test file (what
        # pytest calls, and for a test in a class what the class holds now).
        if item is None:
            return False
        if not hasattr(item, "function"):
            return True  # not a Python function item (a doctest): nothing to swap
        try:
            funcs = [item.obj]
            cls = getattr(item, "cls", None)
            if cls is not None:
                funcs.append(getattr(cls, getattr(item, "originalname", None) or item.name))
            for fn in funcs:
                code = getattr(fn, "__func__", fn).__code__
                if file is None or os.path.realpath(code.co_filename) != os.path.realpath(file):
                    return False
            return True
        except Exception:
            return False

    def make_pytest_plugin():
        items = {}
        root = {"dir": None}

        class CtoHarnessJudge:
            def pytest_configure(self, config):
                root["dir"] = str(getattr(config, "rootpath", None) or getattr(config, "rootdir", ""))

            def pytest_sessionstart(self, session):
                watch_pytest()

            def pytest_itemcollected(self, item):
                items[item.nodeid] = item

            def pytest_runtest_logreport(self, report):
                nodeid = report.nodeid
                item = items.get(nodeid)
                try:
                    file = str(getattr(item, "path", None) or item.fspath) if item is not None else None
                except Exception:
                    file = None
                if file is None:
                    file = os.path.normpath(os.path.join(root["dir"] or os.getcwd(), nodeid.split("::")[0]))
                name = nodeid.split("::", 1)[1] if "::" in nodeid else nodeid
                if report.failed:
                    outcome = "fail"
                elif report.skipped:
                    outcome = "skip"
                elif report.when == "call":
                    outcome = "skip" if hasattr(report, "wasxfail") else "pass"
                else:
                    outcome = None  # a setup or teardown that went well says nothing yet
                if outcome == "pass" and item is None:
                    # Not collected in this process (pytest-xdist's workers, or a made-up report).
                    record({"kind": "tamper", "what": "a passing test %s that this pytest process did not collect (pytest-xdist is not supported)" % nodeid})
                    outcome = "fail"
                elif outcome == "pass" and not pytest_defined_in_its_file(item, file):
                    record({"kind": "tamper", "what": "a passing test %s whose function is not the one in its test file" % nodeid})
                    outcome = "fail"
                if outcome is not None:
                    record({"kind": "test", "file": file, "name": name, "outcome": outcome})
                if report.when == "teardown":
                    check()  # after the test's fixtures (monkeypatch included) are undone

            def pytest_sessionfinish(self, session, exitstatus):
                check_all()
                # Every test has been recorded; pytest now undoes its own patches (legacypath's
                # Node.fspath, ...) as it unconfigures: that is not tampering.
                for key in pytest_keys:
                    watched.pop(key, None)

        return CtoHarnessJudge()

    def hook_pytest_config(module):
        pm_cls = getattr(module, "PytestPluginManager", None)
        if pm_cls is None:
            return
        original_init = pm_cls.__init__
        is_registered = pm_cls.is_registered

        def __init__(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            if pytest_state["pm"] is not None:
                return  # only the first plugin manager (an in-process pytester run is not the judged run)
            plugin = make_pytest_plugin()
            self.register(plugin, "cto-harness-judge")
            pytest_state.update(pm=self, plugin=plugin, is_registered=is_registered)
            record({"kind": "runner", "name": "pytest"})

        pm_cls.__init__ = __init__

    class PytestConfigHook:
        # A meta-path finder that steps in once, for `_pytest.config`, then removes itself.
        def find_spec(self, fullname, path=None, target=None):
            if fullname != "_pytest.config":
                return None
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass
            import importlib.util

            spec = importlib.util.find_spec(fullname)
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            exec_module = spec.loader.exec_module

            def exec_and_hook(module):
                exec_module(module)
                hook_pytest_config(module)

            spec.loader.exec_module = exec_and_hook
            return spec

    sys.meta_path.insert(0, PytestConfigHook())

    def check_all():
        check()
        pm, plugin = pytest_state["pm"], pytest_state["plugin"]
        if pm is not None and not pytest_state["is_registered"](pm, plugin) and ("pytest", "plugin") not in reported:
            reported.add(("pytest", "plugin"))
            record({"kind": "tamper", "what": "the judge's pytest plugin was unregistered while the tests ran"})

    import atexit

    atexit.register(check_all)


_install()
del _install
