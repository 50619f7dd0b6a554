module github.com/copas-lua/copas-lua

go 1.24.0

require (
	github.com/yuin/gluamapper v0.0.0-20150323120927-d836955830e7
	github.com/yuin/gopher-lua v1.1.2
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.41.0
	golang.org/x/term v0.40.0
)

require github.com/mitchellh/mapstructure v1.5.0 // indirect
