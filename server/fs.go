package server

// registerFS registers the /v1/fs routes.
func (s *Server) registerFS() {}
