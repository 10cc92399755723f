// Top-level names a module in the judged tree must not take: Python's standard library
// (`sys.stdlib_module_names`, CPython 3.11, public and private names) and the test runners' own modules.
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
    // private modules of the standard library: imported late, from the tree when it is on sys.path
    "_abc _aix_support _ast _asyncio _bisect _blake2 _bootsubprocess _bz2 _codecs _codecs_cn _codecs_hk " +
    "_codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections _compat_pickle _compression " +
    "_contextvars _crypt _csv _ctypes _curses _curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib " +
    "_frozen_importlib_external _functools _gdbm _hashlib _heapq _imp _json _locale _lsprof _lzma _markupbase " +
    "_md5 _msi _multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _pickle _posixshmem " +
    "_posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256 _sha3 _sha512 _signal " +
    "_sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string _strptime _struct _symtable " +
    "_threading_local _tkinter _tokenize _tracemalloc _typing _uuid _warnings _weakref _weakrefset _winapi " +
    "_zoneinfo " +
    // test runners and what they load
    "pytest _pytest pluggy nose nose2 py conftest sitecustomize usercustomize _io _thread _collections_abc"
  ).split(/\s+/),
);
