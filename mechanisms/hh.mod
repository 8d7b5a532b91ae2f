TITLE hh: squid giant axon sodium, potassium and leak channels

COMMENT
Hodgkin-Huxley (1952) membrane model of the squid giant axon, written for
rall as a density mechanism with the same mathematics as NEURON's built-in
"hh": transient sodium (m^3 h), delayed-rectifier potassium (n^4) and a
leak. Rates are given at 6.3 degC and scaled by q10 = 3^((celsius-6.3)/10).
Voltages in mV, times in ms, conductances in S/cm2, currents in mA/cm2.
The gates are integrated with the exponential (cnexp) method.
ENDCOMMENT

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S)  = (siemens)
}

NEURON {
    SUFFIX hh
    USEION na READ ena WRITE ina
    USEION k READ ek WRITE ik
    NONSPECIFIC_CURRENT il
    RANGE gnabar, gkbar, gl, el, gna, gk
    RANGE minf, hinf, ninf, mtau, htau, ntau
    THREADSAFE
}

PARAMETER {
    gnabar = 0.12 (S/cm2) <0,1e9>
    gkbar = 0.036 (S/cm2) <0,1e9>
    gl = 0.0003 (S/cm2) <0,1e9>
    el = -54.3 (mV)
}

STATE {
    m
    h
    n
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
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
    n' = (ninf - n) / ntau
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
