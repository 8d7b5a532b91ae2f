TITLE pas: passive leak

COMMENT
Passive membrane leak for rall: a single ohmic nonspecific current
i = g*(v - e) with conductance g in S/cm2 and reversal potential e in mV.
ENDCOMMENT

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S)  = (siemens)
}

NEURON {
    SUFFIX pas
    NONSPECIFIC_CURRENT i
    RANGE g, e
    THREADSAFE
}

PARAMETER {
    g = 0.001 (S/cm2) <0,1e9>
    e = -70 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
}

BREAKPOINT {
    i = g * (v - e)
}
