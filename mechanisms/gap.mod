TITLE Ohmic gap junction: one side of an electrical coupling, read through a POINTER

COMMENT
Place one `gap` at each end of the junction and bind each one's POINTER `vgap` to the membrane potential at
the other end (in a rall model file: `pointers = { vgap = { at = "...", cell = "..." } }`; in NEURON:
`h.setpointer(other_seg._ref_v, 'vgap', gap)`). The current g (v - vgap) leaves this side; the same
current enters the other side through its own `gap`, so the pair conserves charge. The coupling is
explicit in vgap: each side reads the other's voltage at the start of the step, as NEURON does with
POINTERs.
ENDCOMMENT

NEURON {
    POINT_PROCESS gap
    NONSPECIFIC_CURRENT i
    RANGE g, i
    POINTER vgap
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    g = 0.001 (uS) <0, 1e9>
}

ASSIGNED {
    v (mV)
    vgap (mV)
    i (nA)
}

BREAKPOINT {
    i = g * (v - vgap)
}
