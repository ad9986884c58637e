"""A guard against forged widget values: a client that writes its own websocket messages.

Where Streamlit 1.67 breaks: a browser sends each widget's value as a WidgetState proto. When the page
calls `st.number_input(..., key=...)`, Streamlit's `WStates.__getitem__`
(streamlit/runtime/state/session_state.py) runs the widget's deserializer on it, inside the widget
call and before the page sees a value. For an integer number_input that is `int(ui_value)`
(`NumberInputSerde.deserialize`, streamlit/elements/widgets/number_input.py): `int(inf)` raises
OverflowError and `int(nan)` ValueError. The page shows "This app has encountered an error", and the
bad value stays in the session's widget state, so every later rerun fails the same way.
Other deserializers quietly replace what they cannot use with the widget's default: a slider value
outside [min, max] or not finite becomes `value=` (for our pages, which pass no `value=`, the
minimum), with no message; a float number_input does the same for inf/NaN.

A value of the wrong type is worse: `__getitem__` records the type it received as the widget's
`value_type`, so after a number sent to a select_slider (which expects its option labels) the next
rerun fails in `WStates.get_serialized` with "TypeError: must be real number, not str", for good.

Text longer than a text_input's `max_chars` (enforced by the browser only) is cut silently.

The guard (installed once per process by app.py) wraps `__getitem__`: it checks a serialized value's
type against the one the widget declared, its numbers against the widget's own bounds (finite, in
[min, max]) and that they survive the widget's own round trip (two numbers for a one-value slider do
not), a text against `max_chars`, and catches anything the deserializer still raises. Option labels
that match no option (selectbox, pills) still fall back silently: after a language switch the
browser legitimately sends the old language's label, so a message there would be a false alarm.
A rejected value is replaced by the widget's last good value (its default on a first run), stored
as the widget's state (so the next rerun is clean), and the learner is told at once, in their language (`errors.widget.rejected`): in
a placeholder app.py puts above the page, or in a toast during a fragment's own rerun. Values that are fine pass through untouched, at the cost of one isinstance check.
"""
from __future__ import annotations

import math
import threading

from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state import session_state as _ss

_live: dict[str, object] = {}                 # session id -> the message placeholder of its running page
_pending: set[str] = set()                    # sessions with a rejection not yet shown
_lock = threading.Lock()
_local = threading.local()                    # .registering: inside a widget call; .state: its SessionState
_installed = False
NUMBER_TYPES = {"int_value", "double_value"}  # one number either way: st.number_input registers double_value
_originals: dict = {}                         # (class, name) -> Streamlit's own method, for uninstall()


def _numbers(proto) -> list[float] | None:
    """The numeric payload of a WidgetState proto, or None if it carries no number."""
    field = proto.WhichOneof("value")
    if field in ("double_value", "int_value"):
        return [getattr(proto, field)]
    if field == "double_array_value":
        return list(proto.double_array_value.data)
    if field == "int_array_value":
        return list(proto.int_array_value.data)
    return None


def _out_of_bounds(serde, values: list[float]) -> bool:
    lo, hi = getattr(serde, "min_value", None), getattr(serde, "max_value", None)
    for v in values:
        if not math.isfinite(v):
            return True
        if isinstance(lo, (int, float)) and v < lo:
            return True
        if isinstance(hi, (int, float)) and v > hi:
            return True
    return False


def _same_numbers(serializer, value, sent: list[float]) -> bool:
    """Whether the deserialized value serializes back to the numbers that were sent."""
    try:
        back = serializer(value)
        back = list(back) if isinstance(back, (list, tuple)) else [back]
        return len(back) == len(sent) and all(math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
                                               for a, b in zip(back, sent))
    except (TypeError, ValueError):
        return True                                   # not a plain number (a date slider): trust Streamlit


def notice_slot(placeholder) -> None:
    """app.py, before each full run of a page: where a rejection message goes (an st.empty above it).

    A value rejected before the page started (Streamlit reads changed values while it prepares a
    rerun) is shown here at once."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with _lock:
        _live[ctx.session_id] = placeholder
        while len(_live) > 2000:                      # sessions long gone: forget the oldest
            _live.pop(next(iter(_live)))
    _deliver()


def run_done() -> None:
    """app.py, after the page (also when it stopped early): the placeholder is no longer live."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        with _lock:
            _live.pop(ctx.session_id, None)


def _deliver() -> None:
    """Show a pending rejection, in the learner's language: above the page during a full run, else
    (a fragment's own rerun skips app.py, or a page runs alone) in a toast."""
    ctx = get_script_run_ctx()
    if ctx is None or ctx.session_id not in _pending:
        return
    import streamlit as st
    from app_pages._ui import t
    with _lock:
        _pending.discard(ctx.session_id)
        slot = None if ctx.fragment_ids_this_run else _live.get(ctx.session_id)
    if slot is not None:
        slot.warning(t("errors.widget.rejected"), icon=":material/block:")
    else:
        st.toast(t("errors.widget.rejected"), icon=":material/block:")


def install() -> None:
    """Wrap WStates.__getitem__ and SessionState.register_widget once per process (idempotent)."""
    global _installed
    if _installed:
        return
    original = _ss.WStates.__getitem__

    def guarded_getitem(self, k):
        wstate = self.states.get(k)
        metadata = self.widget_metadata.get(k)
        if not isinstance(wstate, _ss.Serialized) or metadata is None:
            return original(self, k)
        sent = wstate.value.WhichOneof("value")
        if metadata.value_type and sent and sent != metadata.value_type and \
                {sent, metadata.value_type} != NUMBER_TYPES:   # an int number_input is sent as int_value
            return _fall_back(self, k, metadata)      # the wrong type (a number for a select_slider's label)
        serde = getattr(metadata.deserializer, "__self__", None)
        values = _numbers(wstate.value)
        if values is not None and serde is not None and _out_of_bounds(serde, values):
            return _fall_back(self, k, metadata)
        max_chars = getattr(serde, "max_chars", None)
        if sent == "string_value" and max_chars is not None and len(wstate.value.string_value) > max_chars:
            return _fall_back(self, k, metadata)      # longer than the box allows (Streamlit would cut it)
        try:
            value = original(self, k)
        except Exception:                             # a deserializer that cannot take this value
            return _fall_back(self, k, metadata)
        if values is not None and not _same_numbers(metadata.serializer, value, values):
            return _fall_back(self, k, metadata)      # Streamlit swapped in its default (e.g. 2 values, 1 slider)
        return value

    def _fall_back(self, k, metadata):
        state = getattr(_local, "state", None)        # the SessionState being prepared or run
        old = getattr(state, "_old_state", {}) if state is not None and state._new_widget_state is self else {}
        value = old[k] if k in old else metadata.deserializer(None)   # its last good value, else its default
        self.states[k] = _ss.Value(value)             # stored first: the next rerun is clean whatever happens
        ctx = get_script_run_ctx()
        if ctx is not None:
            with _lock:
                if len(_pending) > 5000:              # sessions that left before being told
                    _pending.clear()
                _pending.add(ctx.session_id)
            if getattr(_local, "registering", False):  # inside the page: say it now
                _deliver()
        return value

    register = _ss.SessionState.register_widget

    def guarded_register(self, metadata, user_key):
        """Widget calls are where the page runs: safe to draw a pending message before the widget."""
        _deliver()
        _local.registering, _local.state = True, self
        try:
            return register(self, metadata, user_key)
        finally:
            _local.registering, _local.state = False, None

    will_rerun = _ss.SessionState.on_script_will_rerun

    def guarded_will_rerun(self, *args, **kwargs):
        """Streamlit reads changed values here, before the page runs (to call on_change callbacks)."""
        _local.state = self
        try:
            return will_rerun(self, *args, **kwargs)
        finally:
            _local.state = None

    _originals.update({(_ss.WStates, "__getitem__"): original, (_ss.SessionState, "register_widget"): register,
                       (_ss.SessionState, "on_script_will_rerun"): will_rerun})
    _ss.WStates.__getitem__ = guarded_getitem
    _ss.SessionState.register_widget = guarded_register
    _ss.SessionState.on_script_will_rerun = guarded_will_rerun
    _installed = True


def uninstall() -> None:
    """Put Streamlit's own methods back (tests)."""
    global _installed
    for (cls, name), fn in _originals.items():
        setattr(cls, name, fn)
    _originals.clear()
    _installed = False
