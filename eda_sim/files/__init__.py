"""Files a user names: read with stated limits, written without leaving half a file (layer 0).

Reading (:func:`open_input`, :func:`read_input_text`):

* only a **regular file** is read: a folder, a FIFO (named pipe), a device such as
  ``/dev/zero`` or a socket is refused at once, without blocking (the file is opened
  non-blocking and checked with ``fstat`` on the open descriptor, so there is no
  window between the check and the read);
* at most a **stated number of bytes** is read (:data:`SCENARIO_LIMIT`,
  :data:`EMPIRICAL_LIMIT`, :data:`TRACE_LIMIT`, ...): a larger file is refused from
  its size before reading, and one whose size is not known in advance (``/proc``)
  as soon as it passes the limit;
* every file read while :func:`recording_inputs` is active is **recorded** with
  the SHA-256 of exactly the bytes read, so that a checkpoint can tell whether a
  data file changed (:class:`InputRecord`).

Writing (:func:`write_output`): ``text`` goes to a temporary file in the target's
folder that is renamed over the target, so a crash or Ctrl-C leaves the old file
or none, never a truncated one. A FIFO or a character device (``/dev/stdout``) is
written to directly, as a stream. A symbolic link is written **through**: the file
it points to is replaced and the link is kept. A new file gets the permissions
the umask allows (``0o666 & ~umask``); a replaced file keeps its own.
:func:`remove_temporaries` deletes the temporary files still being written, for a
process that must exit at once (a second Ctrl-C).

Errors while reading are :class:`InputFileError` with a reason that never quotes
the file's content; the callers put it into their own fault.

The package's modules: :mod:`~eda_sim.files.reading` and :mod:`~eda_sim.files.writing`.
This package imports only the standard library and :mod:`eda_sim.errors`.
"""

from __future__ import annotations

from eda_sim.files.reading import (
    CHECKPOINT_LIMIT,
    EMPIRICAL_LIMIT,
    RESULT_LIMIT,
    SCENARIO_LIMIT,
    TRACE_LIMIT,
    InputFileError,
    InputRecord,
    describe_size,
    file_kind,
    iter_csv_rows,
    open_input,
    read_input_text,
    recording_inputs,
)
from eda_sim.files.writing import (
    folder_problem,
    identity,
    output_problem,
    remove_temporaries,
    write_output,
)

__all__ = [
    "CHECKPOINT_LIMIT",
    "EMPIRICAL_LIMIT",
    "RESULT_LIMIT",
    "SCENARIO_LIMIT",
    "TRACE_LIMIT",
    "InputFileError",
    "InputRecord",
    "describe_size",
    "file_kind",
    "folder_problem",
    "identity",
    "iter_csv_rows",
    "open_input",
    "output_problem",
    "read_input_text",
    "recording_inputs",
    "remove_temporaries",
    "write_output",
]
