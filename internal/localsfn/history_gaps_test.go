package localsfn

// Why the executor's history of a recorded case still differs from AWS's.
const (
	mapRunExitLink = "DISTRIBUTED Map after another state: AWS links MapStateExited to MapRunStarted, not MapRunSucceeded " +
		"as in the recordings where the Map is the first state; no rule found that explains both"
	recordedIDList = "the recording holds [0] for one event id (a recording artefact the comparison does not map)"
	recordedDate   = "the recording replaced the context object's Execution.StartTime inside a variable with \"date\", " +
		"which is not one of the README's placeholders"
)

// historyKnownGaps are the recorded cases whose history still differs from
// AWS's, each with the reason. TestConformanceHistories fails when another
// case differs (a regression) or when one of these matches (remove it).
var historyKnownGaps = map[string]string{
	"scenarios__test_map_state_config_distributed_items_path_from_previous": mapRunExitLink,
	"scenarios__test_map_state_nested_config_distributed":                   mapRunExitLink,
	"scenarios__test_parallel_state__PARALLEL_STATE":                        recordedIDList,
	"scenarios__test_parallel_state_nested":                                 recordedIDList,
	"scenarios__test_parallel_state_order":                                  recordedIDList,
	"variables-assign__test_base_cases__BASE_PATHS":                         recordedDate,
	"variables-assign__test_base_parallel_cases__BASE_SCOPE_PARALLEL":       recordedIDList,
}
