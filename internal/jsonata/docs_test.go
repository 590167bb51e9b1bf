package jsonata

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// docCase is one example from the JSONata documentation: the expression,
// the sample document it runs on, and the result the page shows (as JSON
// text; "undefined" for no result).
type docCase struct {
	expr, fixture, want string
}

// runDocCases evaluates a group of documentation examples.
func runDocCases(t *testing.T, page string, cases []docCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			e, err := Compile(c.expr)
			if err != nil {
				t.Fatalf("%s: compile: %v", page, err)
			}
			in, _ := loadFixture(t, c.fixture)
			got, err := e.EvalAt(fixedNow(), in, nil)
			if c.want == "undefined" {
				if !errors.Is(err, ErrUndefined) {
					t.Fatalf("%s: want undefined, got %v, %v", page, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", page, err)
			}
			var want any
			if err := json.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatalf("bad expectation %q: %v", c.want, err)
			}
			if g := canonical(got); !reflect.DeepEqual(g, want) {
				gb, _ := json.Marshal(g)
				t.Errorf("%s:\n got %s\nwant %s", page, gb, c.want)
			}
		})
	}
}

func TestDocsSimpleQueries(t *testing.T) {
	runDocCases(t, "https://docs.jsonata.org/simple", []docCase{
		{"Surname", "person", `"Smith"`},
		{"Age", "person", `28`},
		{"Address.City", "person", `"Winchester"`},
		{"Other.Misc", "person", `null`},
		{"Other.Nothing", "person", `undefined`},
		{"Other.`Over 18 ?`", "person", `true`},
		{"Phone[0]", "person", `{"type":"home","number":"0203 544 1234"}`},
		{"Phone[1]", "person", `{"type":"office","number":"01962 001234"}`},
		{"Phone[-1]", "person", `{"type":"mobile","number":"077 7700 1234"}`},
		{"Phone[-2]", "person", `{"type":"office","number":"01962 001235"}`},
		{"Phone[8]", "person", `undefined`},
		{"Phone[0].number", "person", `"0203 544 1234"`},
		{"Phone.number", "person", `["0203 544 1234","01962 001234","01962 001235","077 7700 1234"]`},
		{"Phone.number[0]", "person", `["0203 544 1234","01962 001234","01962 001235","077 7700 1234"]`},
		{"(Phone.number)[0]", "person", `"0203 544 1234"`},
		{"Phone[[0..1]]", "person", `[{"type":"home","number":"0203 544 1234"},{"type":"office","number":"01962 001234"}]`},
		{"$[0]", "array", `1`},
		{"$[3]", "array", `[4,5]`},
		{"$[3][0]", "array", `4`},
		{"Phone[type='mobile']", "person", `{"type":"mobile","number":"077 7700 1234"}`},
		{"Phone[type='mobile'].number", "person", `"077 7700 1234"`},
		{"Phone[type='office'].number", "person", `["01962 001234","01962 001235"]`},
		{"Address.*", "person", `["Winchester","SO21 2JN","Hursley Park"]`},
		{"*.Postcode", "person", `"SO21 2JN"`},
		{"**.Postcode", "person", `["SO21 2JN","E1 6RF"]`},
	})
}

func TestDocsPathOperators(t *testing.T) {
	runDocCases(t, "https://docs.jsonata.org/path-operators", []docCase{
		{"Account.Order.Product.(Price * Quantity)", "invoice", `[68.9,21.67,137.8,107.99]`},
		{"Account.Order.(OrderID & ': ' & $count(Product))", "invoice", `["order103: 2","order104: 2"]`},
		{"Account.Order[0].Product.Price[0]", "invoice", `[34.45,21.67]`},
		{"Account.Order.Product{`Product Name`: $sum(Price)}", "invoice", `{"Bowler Hat":68.9,"Trilby hat":21.67,"Cloak":107.99}`},
		{"Account.Order.Product.%.OrderID", "invoice", `["order103","order103","order104","order104"]`},
		{"Account.Order.Product.{'Product': `Product Name`, 'Order': %.OrderID}", "invoice",
			`[{"Product":"Bowler Hat","Order":"order103"},{"Product":"Trilby hat","Order":"order103"},{"Product":"Bowler Hat","Order":"order104"},{"Product":"Cloak","Order":"order104"}]`},
		{"library.loans@$l.books@$b[$l.isbn=$b.isbn].{'title': $b.title, 'customer': $l.customer}", "library",
			`[{"title":"Structure and Interpretation of Computer Programs","customer":"10001"},{"title":"Compilers: Principles, Techniques, and Tools","customer":"10003"},{"title":"Structure and Interpretation of Computer Programs","customer":"10003"}]`},
		{"library.books#$i['Kernighan' in authors].{'title': title, 'index': $i}", "library",
			`[{"title":"The C Programming Language","index":1},{"title":"The AWK Programming Language","index":2}]`},
		{"Account.Order.Product^(Price).`Product Name`", "invoice", `["Trilby hat","Bowler Hat","Bowler Hat","Cloak"]`},
		{"Account.Order.Product^(>Price).`Product Name`", "invoice", `["Cloak","Bowler Hat","Bowler Hat","Trilby hat"]`},
	})
}

func TestDocsOperators(t *testing.T) {
	runDocCases(t, "https://docs.jsonata.org/numeric-operators, comparison-operators, boolean-operators, other-operators", []docCase{
		{"5 + 2", "none", `7`},
		{"5 - 2", "none", `3`},
		{"5 * 2", "none", `10`},
		{"5 / 2", "none", `2.5`},
		{"5 % 2", "none", `1`},
		{"-5", "none", `-5`},
		{"[1..5]", "none", `[1,2,3,4,5]`},
		{"[1..3, 7..9]", "none", `[1,2,3,7,8,9]`},
		{"[1..5].($*$)", "none", `[1,4,9,16,25]`},
		{"1+1 = 2", "none", `true`},
		{"'Hello' = 'Hello'", "none", `true`},
		{"1 != 1", "none", `false`},
		{"22 / 7 > 3", "none", `true`},
		{"5 <= 2", "none", `false`},
		{"'world' in ['hello', 'world']", "none", `true`},
		{"'hello' in 'hello'", "none", `true`},
		{"Age > 18 and Surname = 'Smith'", "person", `true`},
		{"Age < 18 or Surname = 'Smith'", "person", `true`},
		{"FirstName & ' ' & Surname", "person", `"Fred Smith"`},
		{"Age < 18 ? 'child' : 'adult'", "person", `"adult"`},
		{"($x := 5; $y := $x * 2; $x + $y)", "none", `15`},
		{"Account.Order.Product.Price ~> $sum()", "invoice", `198.56`},
	})
}

func TestDocsConstruction(t *testing.T) {
	runDocCases(t, "https://docs.jsonata.org/construction", []docCase{
		{"Email.address", "person", `["fred.smith@my-work.com","fsmith@my-work.com","freddy@my-social.com","frederic.smith@very-serious.com"]`},
		{"Email.[address]", "person", `[["fred.smith@my-work.com","fsmith@my-work.com"],["freddy@my-social.com","frederic.smith@very-serious.com"]]`},
		{"[Address, Other.`Alternative.Address`].City", "person", `["Winchester","London"]`},
		{"Phone.{type: number}", "person", `[{"home":"0203 544 1234"},{"office":"01962 001234"},{"office":"01962 001235"},{"mobile":"077 7700 1234"}]`},
		{"Phone{type: number}", "person", `{"home":"0203 544 1234","office":["01962 001234","01962 001235"],"mobile":"077 7700 1234"}`},
		{"Phone{type: number[]}", "person", `{"home":["0203 544 1234"],"office":["01962 001234","01962 001235"],"mobile":["077 7700 1234"]}`},
	})
}

func TestDocsFunctions(t *testing.T) {
	runDocCases(t, "https://docs.jsonata.org/string-functions", []docCase{
		{`$string(5)`, "none", `"5"`},
		{`[1..5].$string()`, "none", `["1","2","3","4","5"]`},
		{`$length("Hello World")`, "none", `11`},
		{`$substring("Hello World", 3)`, "none", `"lo World"`},
		{`$substring("Hello World", 3, 5)`, "none", `"lo Wo"`},
		{`$substring("Hello World", -4)`, "none", `"orld"`},
		{`$substring("Hello World", -4, 1)`, "none", `"o"`},
		{`$substringBefore("Hello World", " ")`, "none", `"Hello"`},
		{`$substringAfter("Hello World", " ")`, "none", `"World"`},
		{`$uppercase("Hello World")`, "none", `"HELLO WORLD"`},
		{`$lowercase("Hello World")`, "none", `"hello world"`},
		{`$trim(" Hello \n World ")`, "none", `"Hello World"`},
		{`$pad("foo", 5)`, "none", `"foo  "`},
		{`$pad("foo", -5)`, "none", `"  foo"`},
		{`$pad("foo", -5, "#")`, "none", `"##foo"`},
		{`$contains("abracadabra", "bra")`, "none", `true`},
		{`$contains("abracadabra", /a.*a/)`, "none", `true`},
		{`$contains("abracadabra", /ar.*a/)`, "none", `false`},
		{`$contains("Hello World", /wo/i)`, "none", `true`},
		{`$split("so many words", " ")`, "none", `["so","many","words"]`},
		{`$split("so many words", " ", 2)`, "none", `["so","many"]`},
		{`$split("too much, punctuation. hard; to read", /[ ,.;]+/)`, "none", `["too","much","punctuation","hard","to","read"]`},
		{`$join(["one", "two", "three"])`, "none", `"onetwothree"`},
		{`$join(["one", "two", "three"], ", ")`, "none", `"one, two, three"`},
		{`$match("ababbabbcc",/a(b+)/)`, "none", `[{"match":"ab","index":0,"groups":["b"]},{"match":"abb","index":2,"groups":["bb"]},{"match":"abb","index":5,"groups":["bb"]}]`},
		{`$replace("John Smith and John Jones", "John", "Mr")`, "none", `"Mr Smith and Mr Jones"`},
		{`$replace("John Smith and John Jones", "John", "Mr", 1)`, "none", `"Mr Smith and John Jones"`},
		{`$replace("abracadabra", /bra/, "*")`, "none", `"a*cada*"`},
		{`$replace("John Smith", /(\w+)\s(\w+)/, "$2, $1")`, "none", `"Smith, John"`},
		{`$replace("265USD", /([0-9]+)USD/, "$$$1")`, "none", `"$265"`},
		{`$base64encode("myuser:mypassword")`, "none", `"bXl1c2VyOm15cGFzc3dvcmQ="`},
		{`$base64decode("bXl1c2VyOm15cGFzc3dvcmQ=")`, "none", `"myuser:mypassword"`},
		{`$encodeUrlComponent("?x=test")`, "none", `"%3Fx%3Dtest"`},
		{`$decodeUrlComponent("%3Fx%3Dtest")`, "none", `"?x=test"`},
	})
	runDocCases(t, "https://docs.jsonata.org/numeric-functions", []docCase{
		{`$number("5")`, "none", `5`},
		{`["1", "2", "3", "4", "5"].$number()`, "none", `[1,2,3,4,5]`},
		{`$abs(-5)`, "none", `5`},
		{`$floor(5.3)`, "none", `5`},
		{`$floor(-5.3)`, "none", `-6`},
		{`$ceil(5.3)`, "none", `6`},
		{`$round(123.456)`, "none", `123`},
		{`$round(123.456, 2)`, "none", `123.46`},
		{`$round(123.456, -1)`, "none", `120`},
		{`$round(123.456, -2)`, "none", `100`},
		{`$round(11.5)`, "none", `12`},
		{`$round(12.5)`, "none", `12`},
		{`$round(125, -1)`, "none", `120`},
		{`$power(2, 8)`, "none", `256`},
		{`$power(2, 0.5)`, "none", `1.4142135623730951`},
		{`$power(2, -2)`, "none", `0.25`},
		{`$sqrt(4)`, "none", `2`},
		{`$formatNumber(12345.6, '#,###.00')`, "none", `"12,345.60"`},
		{`$formatNumber(1234.5678, '00.000')`, "none", `"1234.568"`},
		{`$formatNumber(0.14, '01%')`, "none", `"14%"`},
		{`$formatBase(100, 2)`, "none", `"1100100"`},
		{`$formatBase(2555, 16)`, "none", `"9fb"`},
		{`$formatInteger(2789, 'w')`, "none", `"two thousand, seven hundred and eighty-nine"`},
		{`$formatInteger(1999, 'I')`, "none", `"MCMXCIX"`},
		{`$parseInteger("twelve thousand, four hundred and seventy-six", 'w')`, "none", `12476`},
		{`$parseInteger('12,345,678', '#,##0')`, "none", `12345678`},
	})
	runDocCases(t, "https://docs.jsonata.org/aggregation-functions", []docCase{
		{`$sum([5,1,3,7,4])`, "none", `20`},
		{`$max([5,1,3,7,4])`, "none", `7`},
		{`$min([5,1,3,7,4])`, "none", `1`},
		{`$average([5,1,3,7,4])`, "none", `4`},
		{`$sum(Account.Order.Product.(Price * Quantity))`, "invoice", `336.36`},
	})
	runDocCases(t, "https://docs.jsonata.org/boolean-functions", []docCase{
		{`$boolean("")`, "none", `false`},
		{`$boolean("0")`, "none", `true`},
		{`$boolean(0)`, "none", `false`},
		{`$boolean([])`, "none", `false`},
		{`$boolean([0])`, "none", `false`},
		{`$boolean([0, 1])`, "none", `true`},
		{`$boolean({})`, "none", `false`},
		{`$not(true)`, "none", `false`},
		{`$exists(Address)`, "person", `true`},
		{`$exists(Nothing)`, "person", `false`},
	})
	runDocCases(t, "https://docs.jsonata.org/array-functions", []docCase{
		{`$count([1,2,3,1])`, "none", `4`},
		{`$count("hello")`, "none", `1`},
		{`$append([1,2,3], [4,5,6])`, "none", `[1,2,3,4,5,6]`},
		{`$append([1,2,3], 4)`, "none", `[1,2,3,4]`},
		{`$append("Hello", "World")`, "none", `["Hello","World"]`},
		{`$sort(Account.Order.Product, function($l, $r) { $l.Description.Weight > $r.Description.Weight }).SKU`, "invoice", `["0406634348","0406654608","040657863","0406654603"]`},
		{`$reverse(["Hello", "World"])`, "none", `["World","Hello"]`},
		{`[1..5] ~> $reverse()`, "none", `[5,4,3,2,1]`},
		{`$distinct([1,2,3,3,4,3,5])`, "none", `[1,2,3,4,5]`},
		{`$distinct(Account.Order.Product.Description.Colour)`, "invoice", `["Purple","Orange","Black"]`},
		{`$zip([1,2,3], [4,5,6])`, "none", `[[1,4],[2,5],[3,6]]`},
		{`$zip([1,2,3],[4,5],[7,8,9])`, "none", `[[1,4,7],[2,5,8]]`},
	})
	runDocCases(t, "https://docs.jsonata.org/object-functions", []docCase{
		{`$keys(Address)`, "person", `["City","Postcode","Street"]`},
		{`$lookup(Address, "City")`, "person", `"Winchester"`},
		{`$merge([{"a":1},{"b":2}])`, "none", `{"a":1,"b":2}`},
		{`$each(Address, function($v, $k) {$k & ": " & $v})`, "person", `["City: Winchester","Postcode: SO21 2JN","Street: Hursley Park"]`},
		{`$type("Hello")`, "none", `"string"`},
		{`$type(function(){1})`, "none", `"function"`},
	})
	runDocCases(t, "https://docs.jsonata.org/higher-order-functions", []docCase{
		{`$map([1..5], $string)`, "none", `["1","2","3","4","5"]`},
		{`$map(Email.address, function($v, $i, $a) { 'Item ' & ($i+1) & ' of ' & $count($a) & ': ' & $v })`, "person",
			`["Item 1 of 4: fred.smith@my-work.com","Item 2 of 4: fsmith@my-work.com","Item 3 of 4: freddy@my-social.com","Item 4 of 4: frederic.smith@very-serious.com"]`},
		{`$filter(Account.Order.Product, function($v, $i, $a) { $v.Price > $average($a.Price) }).SKU`, "invoice", `"0406654603"`},
		{`$single(Phone, function($v) { $v.type = 'mobile' }).number`, "person", `"077 7700 1234"`},
		{`$reduce([1..5], function($i, $j){$i * $j})`, "none", `120`},
		{`$sift(Address, function($v, $k) {$k ~> /^S/}) ~> $keys()`, "person", `"Street"`},
	})
	runDocCases(t, "https://docs.jsonata.org/date-time-functions", []docCase{
		{`$fromMillis(1510067557121)`, "none", `"2017-11-07T15:12:37.121Z"`},
		{`$fromMillis(1510067557121, '[M01]/[D01]/[Y0001] [h#1]:[m01][P]')`, "none", `"11/07/2017 3:12pm"`},
		{`$fromMillis(1510067557121, '[H01]:[m01]:[s01] [z]', '-0500')`, "none", `"10:12:37 GMT-05:00"`},
		{`$toMillis("2017-11-07T15:07:54.972Z")`, "none", `1510067274972`},
		{`$millis()`, "none", `1795867200000`},
		{`$now()`, "none", `"2026-11-28T12:00:00.000Z"`},
	})
}

func TestDocsProgramming(t *testing.T) {
	runDocCases(t, "https://docs.jsonata.org/programming", []docCase{
		{`(
  $factorial := function($x){ $x <= 1 ? 1 : $x * $factorial($x-1) };
  $factorial(4)
)`, "none", `24`},
		{`(
  $fibonacci := function($n) { $n <= 1 ? $n : $fibonacci($n-1) + $fibonacci($n-2) };
  [1..10].$fibonacci($)
)`, "none", `[1,1,2,3,5,8,13,21,34,55]`},
		{`(
  $twice := function($f) { function($x){ $f($f($x)) } };
  $add3 := function($y){ $y + 3 };
  $add6 := $twice($add3);
  $add6(7)
)`, "none", `13`},
		{`( $first5 := $substring(?, 0, 5); $first5("Hello, World") )`, "none", `"Hello"`},
		{`( $uppertrim := $trim ~> $uppercase; $uppertrim("   Hello    World   ") )`, "none", `"HELLO WORLD"`},
		{`Account.Order.Product.Description.Colour ~> $distinct() ~> $join(', ')`, "invoice", `"Purple, Orange, Black"`},
		{`function($x)<n:n>{ $x * 2 }(4)`, "none", `8`},
		{`Account ~> |Order.Product|{'Price': Price * 1.2}| ~> $lookup('Order') ~> $map(function($o){$o.Product.Price})`, "invoice",
			`[[41.34,26.004],[41.34,129.588]]`},
	})
}
