# The stress suites' time knob, checked the same way by make test and
# make stress before any guest boots (the guest suites check it again).

# stress_seconds_valid VALUE: whether VALUE is a STRESS_SECONDS the stress
# suites accept, a whole number of seconds from 1 to 86400.
stress_seconds_valid() {
	[[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 86400 ]
}
