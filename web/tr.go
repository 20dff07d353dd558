package web

// tr is a text in both languages.
type tr struct{ FR, EN string }
