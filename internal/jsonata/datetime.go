package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func addDateFunctions(add adder) {
	add("now", "s?s?", func(ev *evaluator, a []any, _ any, pos int) (any, error) {
		ms := float64(ev.now.UnixMilli())
		return fromMillis(ms, a[0], a[1], pos)
	})
	add("millis", "", func(ev *evaluator, _ []any, _ any, _ int) (any, error) {
		return float64(ev.now.UnixMilli()), nil
	})
	add("fromMillis", "n-s?s?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		ms, ok := asNumber(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		return fromMillis(ms, a[1], a[2], pos)
	})
	add("toMillis", "s-s?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		if pic, ok := str(a[1]); ok {
			return parseWithPicture(s, pic, pos)
		}
		return parseISO(s, pos)
	})
}

// isoPattern is the ISO 8601 subset that $toMillis accepts without a picture.
func isoLayouts() []string {
	return []string{
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04:05",
		"2006-01-02",
		"2006-01",
		"2006",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05Z0700",
	}
}

func parseISO(s string, pos int) (any, error) {
	if !isoShape(s) {
		return nil, newError("D3110", pos, "toMillis", s)
	}
	for _, layout := range isoLayouts() {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.UnixMilli()), nil
		}
	}
	return nil, newError("D3110", pos, "toMillis", s)
}

// isoShape checks the digits of an ISO 8601 timestamp strictly (time.Parse
// accepts one-digit hours): yyyy[-mm[-dd[Thh:mm:ss[.fff][zone]]]].
func isoShape(s string) bool {
	digits := func(from, n int) bool {
		if from+n > len(s) {
			return false
		}
		for i := from; i < from+n; i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(0, 4) {
		return false
	}
	if len(s) <= 10 {
		return len(s) == 4 || (len(s) == 7 && s[4] == '-' && digits(5, 2)) ||
			(len(s) == 10 && s[4] == '-' && s[7] == '-' && digits(5, 2) && digits(8, 2))
	}
	return s[10] == 'T' && digits(11, 2) && len(s) > 13 && s[13] == ':' && digits(14, 2) &&
		len(s) > 16 && s[16] == ':' && digits(17, 2)
}

func zoneFromArg(tz any) (*time.Location, bool) {
	s, ok := str(tz)
	if !ok || len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return time.UTC, false
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[3:5])
	if err1 != nil || err2 != nil {
		return time.UTC, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), true
}

func fromMillis(ms float64, picture, tz any, pos int) (any, error) {
	t := time.UnixMilli(int64(math.Floor(ms))).UTC()
	pic, hasPic := str(picture)
	loc, hasTZ := zoneFromArg(tz)
	if !hasPic {
		if !hasTZ {
			return t.Format("2006-01-02T15:04:05.000Z"), nil
		}
		pic = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"
	}
	return formatPicture(t.In(loc), pic, pos)
}

func monthNames() []string {
	return []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
}

func dayNames() []string {
	return []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
}

// formatPicture renders a time with an XPath date-time picture string such
// as "[Y0001]-[M01]-[D01]" or "[FNn], [D1o] [MNn] [Y]".
func formatPicture(t time.Time, pic string, pos int) (any, error) {
	var b strings.Builder
	for i := 0; i < len(pic); {
		c := pic[i]
		if c == ']' && i+1 < len(pic) && pic[i+1] == ']' {
			b.WriteByte(']')
			i += 2
			continue
		}
		if c != '[' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(pic) && pic[i+1] == '[' {
			b.WriteByte('[')
			i += 2
			continue
		}
		end := strings.IndexByte(pic[i:], ']')
		if end < 0 {
			return nil, &Error{Code: "D3135", Position: pos, Message: "No matching closing bracket ']' in date/time picture string"}
		}
		marker := strings.Join(strings.Fields(pic[i+1:i+end]), "")
		i += end + 1
		b.WriteString(formatComponent(t, marker))
	}
	return b.String(), nil
}

func formatComponent(t time.Time, marker string) string {
	if marker == "" {
		return ""
	}
	comp := marker[0]
	mod := marker[1:]
	width := ""
	if k := strings.IndexByte(mod, ','); k >= 0 {
		mod, width = mod[:k], mod[k+1:]
	}
	var num int
	var names []string
	switch comp {
	case 'Y':
		num = t.Year()
	case 'M':
		num, names = int(t.Month()), monthNames()
	case 'D':
		num = t.Day()
	case 'd':
		num = t.YearDay()
	case 'F':
		num, names = int(t.Weekday()), dayNames()
		if mod == "" {
			mod = "n"
		}
	case 'H':
		num = t.Hour()
	case 'h':
		num = t.Hour() % 12
		if num == 0 {
			num = 12
		}
	case 'P':
		ampm := "am"
		if t.Hour() >= 12 {
			ampm = "pm"
		}
		if strings.HasPrefix(mod, "N") {
			return strings.ToUpper(ampm)
		}
		return ampm
	case 'm':
		num = t.Minute()
		if mod == "" {
			mod = "01"
		}
	case 's':
		num = t.Second()
		if mod == "" {
			mod = "01"
		}
	case 'f':
		// fractional seconds: three digits, padded to the picture's width,
		// trailing zeros dropped down to it when it is narrower
		ms := t.Nanosecond() / 1e6
		digits := strings.Count(mod, "0") + strings.Count(mod, "9") + strings.Count(mod, "1")
		if digits == 0 {
			digits = 3
		}
		s := strconv.Itoa(ms + 1000)[1:]
		for len(s) < digits {
			s += "0"
		}
		for len(s) > digits && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		return s
	case 'W':
		_, num = t.ISOWeek()
	case 'w':
		num = weekOfMonth(t)
	case 'C', 'E':
		return "ISO"
	case 'Z', 'z':
		_, off := t.Zone()
		sign := "+"
		if off < 0 {
			sign, off = "-", -off
		}
		h, m := off/3600, off%3600/60
		if strings.HasSuffix(mod, "t") && off == 0 {
			return "Z"
		}
		mod = strings.TrimSuffix(mod, "t")
		var z string
		switch {
		case mod == "0":
			z = sign + strconv.Itoa(h)
			if m != 0 {
				z += ":" + pad2(m)
			}
		case mod == "0101":
			z = sign + pad2(h) + pad2(m)
		default:
			z = sign + pad2(h) + ":" + pad2(m)
		}
		if comp == 'z' {
			return "GMT" + z
		}
		return z
	default:
		return "[" + marker + "]"
	}
	if names != nil && strings.ContainsAny(mod, "Nn") {
		name := names[num-1]
		if comp == 'F' {
			name = names[num]
		}
		if w := maxWidth(width); w > 0 && w < len(name) {
			name = name[:w]
		}
		switch {
		case strings.HasPrefix(mod, "Nn"):
		case strings.HasPrefix(mod, "N"):
			name = strings.ToUpper(name)
		default:
			name = strings.ToLower(name)
		}
		return name
	}
	if comp == 'Y' && strings.Contains(width, "2") && !strings.Contains(width, "-") {
		num %= 100
		mod = "01"
	}
	ordinal := strings.HasSuffix(mod, "o")
	mod = strings.TrimSuffix(mod, "o")
	switch mod {
	case "I":
		return strings.ToUpper(roman(num))
	case "i":
		return roman(num)
	case "w":
		return numberWords(num, ordinal)
	case "W":
		return strings.ToUpper(numberWords(num, ordinal))
	case "Ww":
		return titleWords(numberWords(num, ordinal))
	}
	minDigits := 1
	if d := strings.Count(mod, "0") + strings.Count(mod, "1") + strings.Count(mod, "#"); d > 0 {
		minDigits = strings.Count(mod, "0") + strings.Count(mod, "1")
	}
	s := strconv.Itoa(num)
	for len(s) < minDigits {
		s = "0" + s
	}
	if ordinal {
		s += ordinalSuffix(num)
	}
	return s
}

// weekOfMonth numbers weeks (Monday first) so that week 1 holds the
// month's first Thursday; days before it belong to the previous month's
// last week.
func weekOfMonth(t time.Time) int {
	monday := func(d time.Time) time.Time {
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
	thursday := first.AddDate(0, 0, (int(time.Thursday)-int(first.Weekday())+7)%7)
	start := monday(thursday)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	if day.Before(start) {
		return weekOfMonth(first.AddDate(0, 0, -1))
	}
	return int(monday(day).Sub(start).Hours()/24/7) + 1
}

func maxWidth(width string) int {
	if k := strings.IndexByte(width, '-'); k >= 0 {
		n, err := strconv.Atoi(width[k+1:])
		if err == nil {
			return n
		}
	}
	return 0
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func ordinalSuffix(n int) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

// parseWithPicture parses a timestamp laid out by a numeric picture such as
// "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]". Name and word presentations are
// not supported for parsing.
func parseWithPicture(s, pic string, pos int) (any, error) {
	var re strings.Builder
	var comps []byte
	re.WriteByte('^')
	for i := 0; i < len(pic); {
		c := pic[i]
		if c != '[' {
			re.WriteString(regexp.QuoteMeta(string(c)))
			i++
			continue
		}
		end := strings.IndexByte(pic[i:], ']')
		if end < 0 {
			return nil, newError("D3110", pos, "toMillis", s)
		}
		marker := pic[i+1 : i+end]
		i += end + 1
		if marker == "" {
			continue
		}
		comps = append(comps, marker[0])
		switch marker[0] {
		case 'Z':
			re.WriteString(`(Z|[+-]\d{2}:?\d{2})`)
		case 'P':
			re.WriteString(`([aApP][mM])`)
		default:
			re.WriteString(`(\d+)`)
		}
	}
	re.WriteByte('$')
	m := regexp.MustCompile(re.String()).FindStringSubmatch(s)
	if m == nil {
		return nil, newError("D3110", pos, "toMillis", s)
	}
	year, month, day, hour, minute, sec, ms, off := 1970, 1, 1, 0, 0, 0, 0, 0
	pm := false
	for k, c := range comps {
		v := m[k+1]
		n, _ := strconv.Atoi(v)
		switch c {
		case 'Y':
			year = n
		case 'M':
			month = n
		case 'D':
			day = n
		case 'H', 'h':
			hour = n
		case 'm':
			minute = n
		case 's':
			sec = n
		case 'f':
			ms = n
		case 'P':
			pm = strings.EqualFold(v, "pm")
		case 'Z':
			if v != "Z" {
				hh, _ := strconv.Atoi(v[1:3])
				mm, _ := strconv.Atoi(v[len(v)-2:])
				off = hh*3600 + mm*60
				if v[0] == '-' {
					off = -off
				}
			}
		}
	}
	if pm && hour < 12 {
		hour += 12
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, time.FixedZone("", off))
	return float64(t.UnixMilli()), nil
}
