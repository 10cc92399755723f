# The judge's unittest collector, loaded by the harness through PYTHONPATH from outside the
# judged tree. It wraps unittest's TestResult so every finished test is appended as one JSON
# line to the file named by CTO_HARNESS_JUDGE_RESULTS (removed from the environment before
# any test loads), and reports when the assertion methods or the result class were replaced
# while the tests ran.
import json as _json
import os as _os
import sys as _sys

_path = _os.environ.pop("CTO_HARNESS_JUDGE_RESULTS", None)
if _path:
    import unittest.case as _case
    import unittest.result as _result

    _out = open(_path, "a", buffering=1, encoding="utf-8")
    _WATCHED = {}
    for _cls in (_case.TestCase, _result.TestResult):
        for _n, _v in list(vars(_cls).items()):
            if callable(_v) and (_n.startswith(("assert", "fail", "add", "_call", "start", "stop")) or _n in ("run", "__call__", "debug", "subTest", "wasSuccessful", "doCleanups")):
                _WATCHED[(_cls, _n)] = _v
    _reported = set()

    def _check():
        for (cls, n), v in _WATCHED.items():
            if vars(cls).get(n) is not v and (cls, n) not in _reported:
                _reported.add((cls, n))
                _out.write(_json.dumps({"kind": "tamper", "what": "%s.%s was replaced while the tests ran" % (cls.__name__, n)}) + "\n")

    def _emit(test, outcome):
        try:
            name = test.id()
            mod = _sys.modules.get(type(test).__module__)
            file = getattr(mod, "__file__", None)
        except Exception:
            name, file = repr(test), None
        _out.write(_json.dumps({"kind": "test", "file": file, "name": name, "outcome": outcome}) + "\n")
        _check()

    def _wrap(method, outcome):
        original = getattr(_result.TestResult, method)

        def wrapper(self, test, *args, **kwargs):
            _emit(test, outcome)
            return original(self, test, *args, **kwargs)

        wrapper.__name__ = method
        setattr(_result.TestResult, method, wrapper)
        _WATCHED[(_result.TestResult, method)] = wrapper

    for _m, _o in (("addSuccess", "pass"), ("addFailure", "fail"), ("addError", "fail"), ("addSkip", "skip"),
                   ("addExpectedFailure", "pass"), ("addUnexpectedSuccess", "fail")):
        _wrap(_m, _o)

    _original_sub = _result.TestResult.addSubTest

    def _add_sub_test(self, test, subtest, err):
        if err is not None:
            _emit(test, "fail")
        return _original_sub(self, test, subtest, err)

    _result.TestResult.addSubTest = _add_sub_test
    _WATCHED[(_result.TestResult, "addSubTest")] = _add_sub_test
