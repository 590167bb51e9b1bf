package jsonata

import "regexp"

// nodeType is the kind of an AST node after processing.
type nodeType int

const (
	nPath nodeType = iota
	nName
	nString
	nNumber
	nValue
	nRegex
	nVariable
	nWildcard
	nDescendant
	nParent
	nBinary
	nNegate
	nArray
	nObject
	nBlock
	nCondition
	nBind
	nApply
	nCall
	nPartial
	nPlaceholder
	nLambda
	nSort
	nTransform
	// raw parse-only kinds, rewritten by process
	rBinary // op is '.', '[', '{', '^', '@', '#' before processing
	nEnd    // the end of the expression where an operand was expected
)

// slot is a parent (%) reference waiting to be bound to an ancestor step.
type slot struct {
	label string
	level int
	index int
}

// stage is a filter or index-binding applied to a step's results.
type stage struct {
	filter *node  // filter predicate, nil for an index stage
	index  string // variable bound to the position (#$i)
	pos    int
}

type sortTerm struct {
	descending bool
	expr       *node
}

// node is one AST node. Only the fields its type uses are set.
type node struct {
	typ nodeType
	pos int
	op  string // operator, name, variable name or string literal
	num float64
	val any // nValue literal: true, false, nil

	re *regexp.Regexp

	lhs, rhs *node
	items    []*node    // array items, block expressions, call arguments, path steps
	pairs    [][2]*node // object constructor (or raw group pairs)

	params []string
	sig    *signature
	body   *node

	cond, then, els *node

	terms []sortTerm

	// path step annotations
	stages        []stage
	predicate     []stage // filters on a non-step expression
	group         [][2]*node
	groupPos      int
	focus         string
	index         string
	ancestor      *slot
	tuple         bool
	keepArray     bool
	consArray     bool
	keepSingleton bool // on a path: promote singleton results to arrays
	seekingParent []*slot
	slot          *slot
	isArrayItem   bool // an array constructor nested directly in an array constructor
	tailCall      bool // a call in tail position of a lambda body: evaluated as a thunk
	needsFrame    bool // a block that binds variables of its own

	// transform
	update, del *node
}
