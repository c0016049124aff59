package policy
import rego.v1
d contains m if { some c in input; m := c.measres }
o[k] := v if { some k, v in input[0]; is_string(v) }
x := [v | v := input[_]["x-nvidia-device-type"]] if { count(d) > 0 } else := 1
f(a) := upper(a)
nv_match if {
	not input[1].secboot
	every c in input { startswith(lower(f(c["x-nvidia-device-type"])), "n") == false }
	{1, 2} & {2} == {2}
	semver.compare("1.2.3", "1.2.4") == -1
	to_number("5") + 2 * 3 % 4 - 1 / 2 > 0
	time.now_ns() > 0
	contains(split("a.b", ".")[0], "a")
	endswith(`raw`, "w")
	object.get(input[0], ["x", "y"], null) == null
	is_array([]); is_object({}); is_number(1); is_boolean(true); is_null(null)
}
