// Top-level names a module in the judged tree must not take: Python's standard library
// (`sys.stdlib_module_names`, CPython 3.11, public names) and the test runners' own modules.
// A module of one of these names in the tree's root is imported instead of the real one.
export const PYTHON_SHADOWABLE: ReadonlySet<string> = new Set(
  (
    "__future__ abc aifc argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb " +
    "binascii bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop collections " +
    "colorsys compileall concurrent configparser contextlib contextvars copy copyreg crypt csv ctypes curses " +
    "dataclasses datetime dbm decimal difflib dis distutils doctest email encodings ensurepip enum errno " +
    "faulthandler fcntl filecmp fileinput fnmatch fractions ftplib functools gc genericpath getopt getpass gettext " +
    "glob graphlib grp gzip hashlib heapq hmac html http importlib inspect io ipaddress " +
    "itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap " +
    "modulefinder multiprocessing netrc nntplib ntpath numbers opcode operator " +
    "optparse os pathlib pdb pickle pickletools pipes pkgutil platform plistlib poplib posix posixpath " +
    "pprint profile pstats pty pwd py_compile pyclbr pydoc queue quopri random re readline " +
    "reprlib resource rlcompleter runpy sched secrets select selectors shelve shlex shutil signal site smtplib " +
    "socket socketserver sqlite3 sre_compile sre_constants sre_parse ssl stat statistics " +
    "string stringprep struct subprocess symtable sys sysconfig syslog tabnanny tarfile tempfile " +
    "termios textwrap threading time timeit token tokenize tomllib trace traceback tracemalloc tty " +
    "types typing unicodedata unittest urllib uu uuid venv warnings wave weakref " +
    "wsgiref xml xmlrpc zipapp zipfile zipimport zlib zoneinfo " +
    // test runners and what they load
    "pytest _pytest pluggy nose nose2 py conftest sitecustomize usercustomize _io _thread _collections_abc"
  ).split(/\s+/),
);
