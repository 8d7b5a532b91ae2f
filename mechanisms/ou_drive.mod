: An Ornstein-Uhlenbeck drive: the current gain * u^4 (depolarising) with
:     u' = (mu - u) theta + sigma xi(t),   xi white noise,
: integrated by Euler-Maruyama: METHOD euler with xi = normrand(0, 1) / sqrt(dt).
: Each cell draws its own stream, seeded from [simulation] seed, reproducibly.

TITLE ou_drive: Ornstein-Uhlenbeck current drive

UNITS {
    (mA) = (milliamp)
    (uA) = (microamp)
}

NEURON {
    SUFFIX ou_drive
    NONSPECIFIC_CURRENT i
    RANGE gain, mu, theta, sigma, u
}

PARAMETER {
    gain = 0.03 (uA/cm2)
    mu = 0
    theta = 0.1 (/ms)
    sigma = 0.7
}

STATE {
    u
}

ASSIGNED {
    i (mA/cm2)
}

INITIAL {
    u = mu
}

BREAKPOINT {
    SOLVE drift METHOD euler
    i = -0.001 * gain * u * u * u * u
}

DERIVATIVE drift {
    u' = (mu - u) * theta + sigma * normrand(0, 1) / sqrt(dt)
}
