package metrics

import "os"

func removeAndMkdir(p string) error {
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Mkdir(p, 0o700)
}
