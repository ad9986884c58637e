"""RNN: the step-through explorable (client-side: no rerun per key press) and the server-side cell choice."""
from bench.browser import Scenario

_HOST = ".st-key-rnn-stepper"
_STEP = _HOST + ' input[name="step"]'
_MAP = _HOST + " .bm-heatmap-pick >> nth=0"
_CELL = '.st-key-rnn-cell button >> nth={}'

SCENARIOS = [
    Scenario(name="rnn_time_step", page="rnn", target_ms=50, client=_HOST, query="rnn.t=5&rnn.cell=lstm",
             what="step-through explorable: time-step key press -> the LSTM's h and gate heat maps re-outlined, formula "
                  "with step t's numbers, y_t and the per-unit table redrawn in the browser, next frame",
             steps=((_STEP, "ArrowRight"), (_STEP, "ArrowLeft"))),
    Scenario(name="rnn_heatmap_step", page="rnn", target_ms=50, client=_HOST, query="rnn.t=5",
             what="step-through explorable: arrow key on the hidden-state heat map (the picked column) -> redrawn, "
                  "next frame",
             steps=((_MAP, "ArrowRight"), (_MAP, "ArrowLeft"))),
    Scenario(name="rnn_gates_step", page="rnn", target_ms=50, client=".st-key-rnn-gates",
             what="RNN vs LSTM vs GRU explorable: time-step key press -> the step outline moved on all 9 heat maps "
                  "(h and gates of the three cells), next frame",
             steps=(('.st-key-rnn-gates input[name="compare_step"]', "ArrowRight"),
                    ('.st-key-rnn-gates input[name="compare_step"]', "ArrowLeft"))),
    Scenario(name="rnn_cell", page="rnn", target_ms=250, presses=10,
             what="cell type (RNN <-> LSTM, server-side): fragment rerun, the other trained cell's weights sent to the "
                  "explorable, which runs it over the sequence and redraws: click to drawn",
             steps=((_CELL.format(1), "click:0.5,0.5"), (_CELL.format(0), "click:0.5,0.5"))),
]
