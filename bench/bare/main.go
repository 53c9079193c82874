// Command bare is the baseline of bench/login.sh: a Fiber app with Fiber's defaults that
// answers GET /player_api.php with the bytes of a file (a login answer xtreamd gave), and
// nothing else: no check, no log, no metrics.
//
//	go run ./bench/bare 127.0.0.1:18472 login.json
package main

import (
	"fmt"
	"os"

	"github.com/gofiber/fiber/v2"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bare ADDR BODY_FILE")
		os.Exit(2)
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
	app.Get("/player_api.php", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	if err := app.Listen(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
