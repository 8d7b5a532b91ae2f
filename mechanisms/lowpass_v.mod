: A low-passed membrane potential g' = (v - g) / tau: a smooth, sub-threshold
: summary of activity whose sensitivities give homeostatic control its direction.

TITLE lowpass_v: low-pass filtered membrane potential

UNITS {
    (mV) = (millivolt)
}

NEURON {
    SUFFIX lowpass_v
    RANGE tau, g
}

PARAMETER {
    tau = 10000 (ms)
}

STATE {
    g (mV)
}

ASSIGNED {
    v (mV)
}

INITIAL {
    g = v
}

BREAKPOINT {
    SOLVE filter METHOD cnexp
}

DERIVATIVE filter {
    g' = (v - g) / tau
}
