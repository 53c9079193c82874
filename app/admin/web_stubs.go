package admin

func (a *API) webConnectionRoutes() []webRoute { return nil }
func (a *API) webAccountRoutes() []webRoute    { return nil }
func (a *API) webSelfRoutes() []webRoute       { return nil }
