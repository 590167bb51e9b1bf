package jsonata

import (
	"math"
	"strconv"
	"strings"
)

// formatExponent renders f in scientific notation for a picture body such
// as "0.00" or "#.#": the mandatory integer digits fix the mantissa's scale.
func formatExponent(f float64, body string, expWidth int, decimalSep, prefix string) string {
	intPic, fracPic, _ := strings.Cut(body, decimalSep)
	intDigits := strings.Count(intPic, "0")
	minFrac := strings.Count(fracPic, "0")
	maxFrac := minFrac + strings.Count(fracPic, "#")
	v := math.Abs(f)
	exp := 0
	if v != 0 {
		exp = int(math.Floor(math.Log10(v))) + 1 - intDigits
	}
	mant := roundHalfEven(v/math.Pow(10, float64(exp)), maxFrac)
	s := strconv.FormatFloat(mant, 'f', maxFrac, 64)
	ip, fp, _ := strings.Cut(s, ".")
	fp = strings.TrimRight(fp, "0")
	for len(fp) < minFrac {
		fp += "0"
	}
	if intDigits == 0 && ip == "0" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += decimalSep + fp
	}
	es := strconv.Itoa(abs(exp))
	for len(es) < expWidth {
		es = "0" + es
	}
	if exp < 0 {
		es = "-" + es
	}
	if f < 0 {
		out = "-" + out
	}
	return prefix + out + "e" + es
}

func roman(n int) string {
	if n <= 0 {
		return strconv.Itoa(n)
	}
	vals := []int{1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1}
	syms := []string{"m", "cm", "d", "cd", "c", "xc", "l", "xl", "x", "ix", "v", "iv", "i"}
	var b strings.Builder
	for i, v := range vals {
		for n >= v {
			b.WriteString(syms[i])
			n -= v
		}
	}
	return b.String()
}

func fromRoman(s string) (int, bool) {
	vals := map[byte]int{'i': 1, 'v': 5, 'x': 10, 'l': 50, 'c': 100, 'd': 500, 'm': 1000}
	s = strings.ToLower(s)
	total := 0
	for i := 0; i < len(s); i++ {
		v, ok := vals[s[i]]
		if !ok {
			return 0, false
		}
		if i+1 < len(s) && vals[s[i+1]] > v {
			total -= v
		} else {
			total += v
		}
	}
	return total, true
}

func smallWords() []string {
	return []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
}

func tensWords() []string {
	return []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
}

// numberWords spells a number in English words ("one hundred and two").
func numberWords(n int, ordinal bool) string {
	w := spell(n)
	if !ordinal {
		return w
	}
	irregular := map[string]string{"one": "first", "two": "second", "three": "third", "five": "fifth",
		"eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
	sep := strings.LastIndexAny(w, " -")
	head, last := w[:sep+1], w[sep+1:]
	if r, ok := irregular[last]; ok {
		return head + r
	}
	if strings.HasSuffix(last, "y") {
		return head + last[:len(last)-1] + "ieth"
	}
	return head + last + "th"
}

func spell(n int) string {
	if n < 0 {
		return "-" + spell(-n)
	}
	small, tens := smallWords(), tensWords()
	switch {
	case n < 20:
		return small[n]
	case n < 100:
		if n%10 == 0 {
			return tens[n/10]
		}
		return tens[n/10] + "-" + small[n%10]
	case n < 1000:
		rest := ""
		if n%100 != 0 {
			rest = " and " + spell(n%100)
		}
		return small[n/100] + " hundred" + rest
	}
	scales := []struct {
		v    int
		name string
	}{{1e18, "quintillion"}, {1e15, "quadrillion"}, {1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}, {1e3, "thousand"}}
	for _, s := range scales {
		if n >= s.v {
			rest := ""
			if r := n % s.v; r != 0 {
				if r < 100 {
					rest = " and " + spell(r)
				} else {
					rest = ", " + spell(r)
				}
			}
			return spell(n/s.v) + " " + s.name + rest
		}
	}
	return strconv.Itoa(n)
}

// fromWords reads a number written in English words, the inverse of
// numberWords.
func fromWords(s string) (int, bool) {
	values := map[string]int{}
	for i, w := range smallWords() {
		values[w] = i
	}
	for i, w := range tensWords() {
		if w != "" {
			values[w] = i * 10
		}
	}
	scales := map[string]int{"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == ',' || r == '-' })
	total, current := 0, 0
	for _, w := range words {
		switch {
		case w == "and":
		case w == "hundred":
			current *= 100
		case scales[w] > 0:
			total += current * scales[w]
			current = 0
		default:
			v, ok := values[w]
			if !ok {
				return 0, false
			}
			current += v
		}
	}
	return total + current, len(words) > 0
}

func titleWords(s string) string {
	b := []byte(s)
	for i := range b {
		if (i == 0 || b[i-1] == ' ' || b[i-1] == '-') && !strings.HasPrefix(s[i:], "and ") {
			b[i] = strings.ToUpper(string(b[i]))[0]
		}
	}
	return string(b)
}

func fnFormatInteger(_ *evaluator, a []any, _ any, _ int) (any, error) {
	f, ok := asNumber(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	pic, _ := str(a[1])
	n := int(f)
	ordinal := strings.HasSuffix(pic, ";o")
	pic = strings.TrimSuffix(pic, ";o")
	switch pic {
	case "I":
		return strings.ToUpper(roman(n)), nil
	case "i":
		return roman(n), nil
	case "w":
		return numberWords(n, ordinal), nil
	case "W":
		return strings.ToUpper(numberWords(n, ordinal)), nil
	case "Ww":
		return titleWords(numberWords(n, ordinal)), nil
	case "A":
		return strings.ToUpper(letters(n)), nil
	case "a":
		return letters(n), nil
	}
	if !strings.ContainsAny(pic, "0123456789") {
		return nil, newError("D3130", 0, "formatInteger", pic[:min(1, len(pic))])
	}
	// decimal digit pattern with optional grouping separators, e.g. "#,##0"
	digits := strconv.Itoa(abs(n))
	minDigits := strings.Count(pic, "0") + strings.Count(pic, "1")
	for len(digits) < minDigits {
		digits = "0" + digits
	}
	sepAt := strings.LastIndexAny(pic, ",. ")
	if group := len(pic) - sepAt - 1; sepAt >= 0 && group > 0 {
		sep := pic[sepAt]
		var b strings.Builder
		for i, d := range digits {
			if i > 0 && (len(digits)-i)%group == 0 {
				b.WriteByte(sep)
			}
			b.WriteRune(d)
		}
		digits = b.String()
	}
	if n < 0 {
		digits = "-" + digits
	}
	if ordinal {
		digits += ordinalSuffix(abs(n))
	}
	return digits, nil
}

// letters numbers in bijective base 26: a..z, aa, ab, ...
func letters(n int) string {
	if n <= 0 {
		return strconv.Itoa(n)
	}
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('a' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

func fromLetters(s string) (int, bool) {
	n := 0
	for _, c := range strings.ToLower(s) {
		if c < 'a' || c > 'z' {
			return 0, false
		}
		n = n*26 + int(c-'a') + 1
	}
	return n, s != ""
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func fnParseInteger(_ *evaluator, a []any, _ any, pos int) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	pic, _ := str(a[1])
	switch pic {
	case "w", "W", "Ww":
		n, ok := fromWords(s)
		if !ok {
			return nil, newError("D3030", pos, "parseInteger", s)
		}
		return float64(n), nil
	case "I", "i":
		n, ok := fromRoman(s)
		if !ok {
			return nil, newError("D3030", pos, "parseInteger", s)
		}
		return float64(n), nil
	case "A", "a":
		n, ok := fromLetters(s)
		if !ok {
			return nil, newError("D3030", pos, "parseInteger", s)
		}
		return float64(n), nil
	}
	clean := strings.Map(func(r rune) rune {
		if r == ',' || r == ' ' || (r == '.' && strings.ContainsRune(pic, '.')) {
			return -1
		}
		return r
	}, s)
	clean = strings.TrimRight(clean, "stndrh")
	n, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return nil, newError("D3030", pos, "parseInteger", s)
	}
	return n, nil
}

// fnFormatNumber implements $formatNumber for the common XPath pictures:
// optional prefix/suffix, grouping separators, '0' and '#' digits, a
// fractional part, and '%' or '‰' scaling; two sub-pictures split by ';'
// give the negative form.
func fnFormatNumber(_ *evaluator, a []any, _ any, pos int) (any, error) {
	f, ok := asNumber(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	pic, _ := str(a[1])
	decimalSep, groupSep := ".", ","
	if opts, ok := a[2].(map[string]any); ok {
		if s, ok := opts["decimal-separator"].(string); ok {
			decimalSep = s
		}
		if s, ok := opts["grouping-separator"].(string); ok {
			groupSep = s
		}
	}
	subs := strings.Split(pic, ";")
	if len(subs) > 2 {
		return nil, &Error{Code: "D3080", Position: pos, Message: "The picture string must only contain a maximum of two sub-pictures"}
	}
	sub := subs[0]
	negPrefix := "-"
	if f < 0 && len(subs) == 2 {
		sub, negPrefix = subs[1], ""
	}
	isDigitChar := func(c rune) bool {
		return c == '#' || (c >= '0' && c <= '9') || strings.ContainsRune(decimalSep+groupSep, c)
	}
	runes := []rune(sub)
	start, end := 0, len(runes)
	for start < end && !isDigitChar(runes[start]) {
		start++
	}
	for end > start && !isDigitChar(runes[end-1]) {
		end--
	}
	prefix, body, suffix := string(runes[:start]), string(runes[start:end]), string(runes[end:])
	if mant, exp, ok := strings.Cut(body, "e"); ok && exp != "" && strings.Trim(exp, "0123456789") == "" {
		// an exponent picture such as 0.00e0: the digits after e are the
		// exponent's minimum width
		return formatExponent(f, mant, len(exp), decimalSep, prefix) + suffix, nil
	}
	v := math.Abs(f)
	if strings.Contains(prefix+suffix, "%") {
		v *= 100
	} else if strings.Contains(prefix+suffix, "‰") {
		v *= 1000
	}
	intPic, fracPic, _ := strings.Cut(body, decimalSep)
	minFrac := strings.Count(fracPic, "0")
	maxFrac := minFrac + strings.Count(fracPic, "#")
	minInt := strings.Count(intPic, "0")
	group := 0
	if k := strings.LastIndex(intPic, groupSep); k >= 0 {
		group = len([]rune(intPic)) - len([]rune(intPic[:k])) - 1
	}
	s := strconv.FormatFloat(roundHalfEven(v, maxFrac), 'f', maxFrac, 64)
	ip, fp, _ := strings.Cut(s, ".")
	fp = strings.TrimRight(fp, "0")
	for len(fp) < minFrac {
		fp += "0"
	}
	ip = strings.TrimLeft(ip, "0")
	for len(ip) < minInt {
		ip = "0" + ip
	}
	if group > 0 {
		var b strings.Builder
		for i, d := range ip {
			if i > 0 && (len(ip)-i)%group == 0 {
				b.WriteString(groupSep)
			}
			b.WriteRune(d)
		}
		ip = b.String()
	}
	if ip == "" && fp == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += decimalSep + fp
	}
	if f < 0 {
		out = negPrefix + prefix + out + suffix
	} else {
		out = prefix + out + suffix
	}
	return out, nil
}
