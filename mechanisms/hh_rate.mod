TITLE hh_rate: hh with a smooth firing-rate sensor (the phase angle of the (m, h) loop)

COMMENT
Hodgkin-Huxley (1952) membrane model of the squid giant axon, written for
rall as a density mechanism with the same mathematics as NEURON's built-in
"hh": transient sodium (m^3 h), delayed-rectifier potassium (n^4) and a
leak. Rates are given at 6.3 degC and scaled by q10 = 3^((celsius-6.3)/10).
Voltages in mV, times in ms, conductances in S/cm2, currents in mA/cm2.
The gates are integrated with the exponential (cnexp) method.

hh_rate is hh (identical currents) plus the sensor of rall's homeostatic
control (see docs/homeostasis.md): every spike is one loop of the gate pair
(m, h) around the centre (m_c, h_c), run clockwise. The exact angle swept in
one step, from the gates before to the gates after it,
    dphi = atan2(x0 y1 - y0 x1, x0 x1 + y0 y1),  (x, y) = (m - m_c, h - h_c),
gives the instantaneous rate -dphi / (2 pi dt), low-passed with tau_f into
the state f [Hz]. The centre must lie inside every spike loop and outside the
sub-threshold wander: (0.4, 0.2) for hh at 6.3 degC.
ENDCOMMENT

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S)  = (siemens)
}

NEURON {
    SUFFIX hh_rate
    USEION na READ ena WRITE ina
    USEION k READ ek WRITE ik
    NONSPECIFIC_CURRENT il
    RANGE gnabar, gkbar, gl, el, gna, gk
    RANGE minf, hinf, ninf, mtau, htau, ntau
    RANGE m_c, h_c, tau_f
    THREADSAFE
}

CONSTANT {
    TWOPI = 6.283185307179586
}

PARAMETER {
    gnabar = 0.12 (S/cm2) <0,1e9>
    gkbar = 0.036 (S/cm2) <0,1e9>
    gl = 0.0003 (S/cm2) <0,1e9>
    el = -54.3 (mV)
    m_c = 0.4
    h_c = 0.2
    tau_f = 10000 (ms)
}

STATE {
    m
    h
    n
    f (Hz)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ena (mV)
    ek (mV)
    ina (mA/cm2)
    ik (mA/cm2)
    il (mA/cm2)
    gna (S/cm2)
    gk (S/cm2)
    minf
    hinf
    ninf
    mtau (ms)
    htau (ms)
    ntau (ms)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
    n = ninf
    f = 0
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gna = gnabar * m * m * m * h
    ina = gna * (v - ena)
    gk = gkbar * n * n * n * n
    ik = gk * (v - ek)
    il = gl * (v - el)
}

DERIVATIVE states {
    LOCAL x0, y0, x1, y1, dphi
    x0 = m - m_c
    y0 = h - h_c
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
    n' = (ninf - n) / ntau
    : m and h now hold their values at the end of the step
    x1 = m - m_c
    y1 = h - h_c
    dphi = atan2(x0 * y1 - y0 * x1, x0 * x1 + y0 * y1)
    f' = (-1000 * dphi / (TWOPI * dt) - f) / tau_f
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b, total, phi
    : temperature scaling of all rate constants
    phi = pow(3, (celsius - 6.3) / 10)

    : sodium activation
    a = 0.1 * vtrap(-(v + 40), 10)
    b = 4 * exp(-(v + 65) / 18)
    total = a + b
    mtau = 1 / (phi * total)
    minf = a / total

    : sodium inactivation
    a = 0.07 * exp(-(v + 65) / 20)
    b = 1 / (exp(-(v + 35) / 10) + 1)
    total = a + b
    htau = 1 / (phi * total)
    hinf = a / total

    : potassium activation
    a = 0.01 * vtrap(-(v + 55), 10)
    b = 0.125 * exp(-(v + 65) / 80)
    total = a + b
    ntau = 1 / (phi * total)
    ninf = a / total
}

FUNCTION vtrap(x, y) {
    : x/(exp(x/y)-1), replaced by its series y*(1 - x/(2y)) near x = 0
    IF (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } ELSE {
        vtrap = x / (exp(x / y) - 1)
    }
}
