# The judge's unittest collector, loaded by the harness through PYTHONPATH from outside the
# judged tree. It wraps unittest's result methods so every finished test is appended as one
# JSON line to the file named by CTO_HARNESS_JUDGE_RESULTS, each line authenticated with a
# key the harness left beside that file: the first collector to start reads the key and
# deletes it, before any test (or code under test) loads. It also reports when any class or
# function of unittest was replaced while the tests ran.
#
# A passing test counts only when its method's code comes from its own test file.
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

    import atexit

    atexit.register(check)


_install()
del _install
