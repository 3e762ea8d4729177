package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Cleanup detaches everything of cfg.Instance (tc filters on
// cfg.Interfaces in cfg.Netns, the cgroup hooks) and removes its pins, so
// the kernel frees the maps. Connections through the instance's services
// stop being translated. Cleanup of an instance that does not exist is not
// an error.
func Cleanup(cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	errs := []error{detachTC(cfg), detachCgroup(cfg.PinDir())}
	if err := os.RemoveAll(cfg.PinDir()); err != nil {
		errs = append(errs, fmt.Errorf("dataplane: remove pins %s: %w", cfg.PinDir(), err))
	}
	_ = os.Remove(filepath.Dir(cfg.PinDir())) // the weir/ directory, when empty
	return errors.Join(errs...)
}
